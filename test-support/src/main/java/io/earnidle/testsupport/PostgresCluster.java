package io.earnidle.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server for the test run: {@code initdb} into a temporary folder, started on a free port of
 * 127.0.0.1 (no fsync, trust authentication), one database per backend data directory (a restart test opens the same
 * database again), stopped and deleted when the JVM exits. The server binaries are the newest
 * {@code /usr/lib/postgresql/N/bin} or whatever {@code pg_ctl} the PATH has; as root (PostgreSQL refuses to run as
 * root) the server runs as the {@code postgres} user through {@code runuser}.
 */
public final class PostgresCluster {
    public static final String USER = "earnidle";
    private static PostgresCluster shared;

    private final Path dir;
    private final Path bin;
    private final int port;
    private final boolean asPostgresUser;
    private final Map<Path, String> databases = new ConcurrentHashMap<>();

    private PostgresCluster(Path bin) throws IOException, InterruptedException {
        this.bin = bin;
        this.asPostgresUser = "root".equals(System.getProperty("user.name"));
        this.dir = Files.createTempDirectory("earnidle-pg");
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            this.port = s.getLocalPort();
        }
        if (asPostgresUser) {
            run(List.of("chown", "postgres", dir.toString()), false);
        }
        run(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER,
                "--auth=trust", "-E", "UTF8", "--no-sync"), true);
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                dir.resolve("server.log").toString(), "-w", "-t", "60", "start", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                        + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"), true);
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "postgres-stop"));
    }

    /** Whether this test run uses PostgreSQL as the store (system property {@code earnidle.test.store=postgres}). */
    public static boolean active() {
        return "postgres".equals(System.getProperty("earnidle.test.store"));
    }

    /** The {@code db.connection.*} keys for a backend whose data directory is {@code dataDir}: none on H2. */
    public static Map<String, String> storeConfig(Path dataDir) {
        if (!active()) {
            return Map.of();
        }
        return Map.of("db.connection.url", shared().databaseFor(dataDir), "db.connection.username", USER);
    }

    /** The server of this JVM, started on first use. */
    public static synchronized PostgresCluster shared() {
        if (shared == null) {
            try {
                shared = new PostgresCluster(findBin());
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("could not start PostgreSQL for the tests: " + e.getMessage(), e);
            }
        }
        return shared;
    }

    /** The JDBC URL of the database that belongs to {@code dataDir} (created on first use). */
    public String databaseFor(Path dataDir) {
        String name = databases.computeIfAbsent(dataDir.toAbsolutePath(), d -> {
            String n = "t" + (databases.size() + 1) + "_" + Long.toHexString(System.nanoTime());
            try (Connection c = DriverManager.getConnection(url("postgres"), USER, "");
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + n);
            } catch (SQLException e) {
                throw new IllegalStateException("CREATE DATABASE " + n + ": " + e.getMessage(), e);
            }
            return n;
        });
        return url(name);
    }

    private String url(String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    private static Path findBin() {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                Path best = s.map(p -> p.resolve("bin"))
                        .filter(p -> Files.isExecutable(p.resolve("pg_ctl")))
                        .max(Comparator.comparingInt(PostgresCluster::majorOf)).orElse(null);
                if (best != null) {
                    return best;
                }
            } catch (IOException ignored) {
                // fall back to the PATH
            }
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d);
            if (!d.isEmpty() && Files.isExecutable(p.resolve("pg_ctl")) && Files.isExecutable(p.resolve("initdb"))) {
                return p;
            }
        }
        throw new IllegalStateException("PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15+"
                + " (Debian: apt-get install postgresql)");
    }

    private static int majorOf(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asServerUser && asPostgresUser) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        Path out = Files.createTempFile("earnidle-pg-cmd", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": "
                        + Files.readString(out));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private void stop() {
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate",
                    "-w", "stop"), true);
        } catch (IOException | InterruptedException e) {
            System.err.println("PostgresCluster: stopping the test server failed: " + e.getMessage());
        }
        try {
            Folders.deleteTree(dir);
        } catch (IOException e) {
            System.err.println("PostgresCluster: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
