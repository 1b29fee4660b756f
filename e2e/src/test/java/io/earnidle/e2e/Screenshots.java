package io.earnidle.e2e;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the e2e tests save the screenshots that docs/publishers.md and docs/widget.md show. A test run writes them
 * under {@code e2e/target/screenshots/} and never into tracked files; {@code ./earnidle screenshots} runs the tests
 * that take them with {@code -Dearnidle.screenshots.dir=<repository>/docs/img} to refresh the documentation's images.
 */
final class Screenshots {
    static final String DIR_PROPERTY = "earnidle.screenshots.dir";

    private Screenshots() {
    }

    /** The folder screenshots go to: {@value #DIR_PROPERTY} when set, else target/screenshots of the module. */
    static Path dir() throws IOException {
        String configured = System.getProperty(DIR_PROPERTY, "");
        Path dir = configured.isBlank() ? Path.of("target", "screenshots").toAbsolutePath() : Path.of(configured);
        Files.createDirectories(dir);
        return dir;
    }

    /** Saves a PNG of {@code source} (the page, or one element) as {@code name}.png. */
    static void save(TakesScreenshot source, String name) throws IOException {
        Files.write(dir().resolve(name + ".png"), source.getScreenshotAs(OutputType.BYTES));
    }
}
