package io.earnidle.backend.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for the embedded H2 store (docs/operations.md "Durability"): a write the server acknowledges must be in
 * the database file before the answer leaves, so that a killed process keeps it. H2's {@code WRITE_DELAY=0} wrote the
 * store once per commit under one global lock, which capped the whole server at the store writes one thread can do
 * (about 1,800 commits/s on the 2-core development machine, however many threads commit). Here the store is written
 * by {@code CHECKPOINT} (all changes committed so far, written to the file, as {@code WRITE_DELAY=0} did; no fsync)
 * and each caller of {@link #await} waits for one checkpoint that began after it asked: while one checkpoint runs, the
 * callers that arrive meanwhile share the next one. H2's own background writer ({@code WRITE_DELAY}) still runs.
 */
public final class GroupCommit implements AutoCloseable {
    private final Connection connection;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    /** Callers that asked so far, and how many of them the finished checkpoints covered. */
    private long requested;
    private long written;
    private boolean writing;
    /** Checkpoints finished. */
    private long checkpoints;

    public GroupCommit(String url, String user, String password) throws SQLException {
        this.connection = DriverManager.getConnection(url, user, password);
    }

    /**
     * Returns once every transaction committed before this call is in the database file: a checkpoint that began
     * after the call has finished.
     */
    public void await() {
        long ticket;
        long covers;
        lock.lock();
        try {
            ticket = ++requested;
            while (true) {
                if (written >= ticket) {
                    return;
                }
                if (!writing) {
                    break; // no checkpoint runs: this caller runs one for every caller so far
                }
                done.awaitUninterruptibly();
            }
            writing = true;
            covers = requested;
        } finally {
            lock.unlock();
        }
        SQLException failed = null;
        try (Statement s = connection.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            failed = e;
        }
        lock.lock();
        try {
            writing = false;
            if (failed == null) {
                written = Math.max(written, covers);
                checkpoints++;
            }
            done.signalAll();
        } finally {
            lock.unlock();
        }
        if (failed != null) {
            throw new IllegalStateException("could not write the database file: " + failed.getMessage(), failed);
        }
    }

    /** How many checkpoints have finished. */
    long checkpoints() {
        lock.lock();
        try {
            return checkpoints;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // the database is closing anyway
        }
    }
}
