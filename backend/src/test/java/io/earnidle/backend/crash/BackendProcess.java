package io.earnidle.backend.crash;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One backend instance as its own operating-system process, started as {@code ./earnidle serve --config FILE} starts
 * it: {@code java --add-modules jdk.incubator.vector -jar backend/target/backend-*.jar --config FILE} (the jar's
 * manifest names {@code io.earnidle.backend.Main} and {@code lib/}). The config file is written once, with a fixed
 * port, so a restart after {@code kill -9} comes back on the same address and data.
 */
final class BackendProcess implements AutoCloseable {
    /** A started JVM is given this long to answer its first request (Flyway, demo seeding, a cold JIT). */
    private static final Duration START_LIMIT = Duration.ofSeconds(180);

    final String name;
    final int port;
    private final Path configFile;
    private final Path log;
    private Process process;

    BackendProcess(String name, Path workDir, Map<String, String> settings) throws IOException {
        this.name = name;
        this.port = freePort();
        Map<String, String> m = new TreeMap<>(settings);
        m.put("server.host", "127.0.0.1");
        m.put("server.port", String.valueOf(port));
        Properties p = new Properties();
        p.putAll(m);
        this.configFile = workDir.resolve(name + ".properties");
        try (var out = Files.newBufferedWriter(configFile)) {
            p.store(out, "crash test instance " + name);
        }
        this.log = workDir.resolve(name + ".log");
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Starts the process and returns once it answers {@code GET /api/models} with 200. */
    void start() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-jar", backendJar().toString(), "--config", configFile.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        while (true) {
            try {
                if (CrashHttp.send(base(), CrashHttp.get("/api/models", null)).status() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " while starting: " + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(name + " did not answer within " + START_LIMIT + ": " + tail());
            }
            process.waitFor(100, TimeUnit.MILLISECONDS);
        }
    }

    /** {@code kill -9}: no shutdown hook, no clean close of the store or the HTTP connections. */
    void kill9() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-9", String.valueOf(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -9 " + process.pid() + " failed");
        }
        process.waitFor();
    }

    /** A clean stop (SIGTERM: the shutdown hook closes the server and the store). */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    String tail() throws IOException {
        String s = Files.exists(log) ? Files.readString(log) : "";
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** The packaged backend jar (failsafe runs after {@code package}): the one {@code ./earnidle serve} runs. */
    static Path backendJar() throws IOException {
        for (Path dir : List.of(Path.of("target"), Path.of("backend", "target"))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    var jar = s.filter(f -> f.getFileName().toString().matches("backend-.*\\.jar")
                            && !f.getFileName().toString().matches(".*-(sources|tests)\\.jar")).findFirst();
                    if (jar.isPresent() && Files.isDirectory(dir.resolve("lib"))) {
                        return jar.get().toAbsolutePath();
                    }
                }
            }
        }
        throw new IOException("backend jar not found under target/: the crash test runs after `package` (failsafe)");
    }

    /** Deletes a test's work folder (config files, logs, H2 data) once its processes stopped. */
    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
