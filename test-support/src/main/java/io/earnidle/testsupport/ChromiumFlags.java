package io.earnidle.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The project's headless Chromium flags, read from its one flags file: browser-node's
 * {@code src/main/resources/io/earnidle/node/cli/chromium-flags.txt} (one flag per line, # comments), which this
 * module's build copies into its jar as {@code io/earnidle/testsupport/chromium-flags.txt}. BrowserInfer (main code)
 * and e2e/bench/lib/chromium.mjs read the same file.
 */
public final class ChromiumFlags {
    private static final List<String> HEADLESS = read();

    private ChromiumFlags() {
    }

    /** The flags, in the file's order (no --user-data-dir: callers add their own profile). */
    public static List<String> headless() {
        return HEADLESS;
    }

    private static List<String> read() {
        try (InputStream in = ChromiumFlags.class.getResourceAsStream("chromium-flags.txt")) {
            if (in == null) {
                throw new IllegalStateException("io/earnidle/testsupport/chromium-flags.txt is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
