package io.earnidle.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import io.earnidle.backend.db.GroupCommit;

/**
 * How many durable commits per second the embedded H2 store takes (docs/operations.md "Durability of the embedded
 * H2 store"): threads each commit one-row UPDATEs for a few seconds on a fresh file store, with H2 writing the store
 * on every commit ({@code each}: {@code WRITE_DELAY=0}), only after its write delay ({@code delay}: H2's default, not
 * durable), or the backend's group commit ({@code group}: {@link GroupCommit} after every commit). Prints one line per
 * mode and thread count. Run: {@code java -cp ... io.earnidle.load.CommitBench [seconds] [threads,...]}.
 */
public final class CommitBench {
    private static final int ROWS = 10_000;

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        String[] threadCounts = (args.length > 1 ? args[1] : "1,16,64").split(",");
        System.out.println("cores " + Runtime.getRuntime().availableProcessors() + ", load average "
                + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        for (String mode : List.of("each", "delay", "group")) {
            for (String t : threadCounts) {
                System.out.printf("%-5s %3d threads: %,d commits/s%n", mode, Integer.parseInt(t),
                        run(mode, Integer.parseInt(t), seconds));
            }
        }
    }

    static long run(String mode, int threads, double seconds) throws Exception {
        Path dir = Files.createTempDirectory("earnidle-commits");
        String url = "jdbc:h2:file:" + dir.resolve("db") + ";DATABASE_TO_LOWER=TRUE"
                + (mode.equals("each") ? ";WRITE_DELAY=0" : "");
        try (Connection setup = DriverManager.getConnection(url, "sa", "")) {
            setup.createStatement().execute("CREATE TABLE t (id INT PRIMARY KEY, v BIGINT NOT NULL)");
            try (PreparedStatement p = setup.prepareStatement("INSERT INTO t VALUES (?, 0)")) {
                for (int i = 0; i < ROWS; i++) {
                    p.setInt(1, i);
                    p.addBatch();
                }
                p.executeBatch();
            }
            GroupCommit group = mode.equals("group") ? new GroupCommit(url, "sa", "") : null;
            AtomicLong commits = new AtomicLong();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            List<Thread> workers = new ArrayList<>();
            List<Exception> failures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    try (Connection c = DriverManager.getConnection(url, "sa", "");
                         PreparedStatement p = c.prepareStatement("UPDATE t SET v = v + 1 WHERE id = ?")) {
                        c.setAutoCommit(false);
                        while (System.nanoTime() < end) {
                            p.setInt(1, ThreadLocalRandom.current().nextInt(ROWS));
                            p.executeUpdate();
                            c.commit();
                            if (group != null) {
                                group.await();
                            }
                            commits.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }));
            }
            for (Thread w : workers) {
                w.join();
            }
            if (group != null) {
                group.close();
            }
            if (!failures.isEmpty()) {
                throw failures.get(0);
            }
            return Math.round(commits.get() / seconds);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
