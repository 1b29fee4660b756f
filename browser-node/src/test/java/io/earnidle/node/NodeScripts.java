package io.earnidle.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs the reference scripts of {@code src/test/node} (llama.cpp oracle, reference tokenizers) with Node.js. */
public final class NodeScripts {
    /** The npm folder of the reference scripts. */
    public static final Path DIR = moduleDir().resolve("src/test/node");

    private NodeScripts() {
    }

    private static Path moduleDir() {
        String base = System.getProperty("basedir");
        return base != null ? Path.of(base) : Path.of("").toAbsolutePath();
    }

    /**
     * Runs {@code node ARGS} in {@link #DIR} ($NODE, else node on the PATH) with {@code stdin} as its input; returns
     * its stdout, failing the test on a non-zero exit (with its stderr) or after 300 s.
     */
    public static String run(List<String> args, String stdin) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getenv().getOrDefault("NODE", "node"));
        cmd.addAll(args);
        Path err = Files.createTempFile("node-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectError(err.toFile()).start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread reader = new Thread(() -> {
                try (InputStream in = p.getInputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // the exit status reports the failure
                }
            });
            reader.start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("node " + args + " did not finish in 300 s");
            }
            reader.join();
            String errText = Files.readString(err);
            assertEquals(0, p.exitValue(), () -> "node " + String.join(" ", args) + " failed: " + errText);
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
