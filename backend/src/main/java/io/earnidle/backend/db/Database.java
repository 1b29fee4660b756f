package io.earnidle.backend.db;

import java.io.PrintStream;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;
import org.flywaydb.core.Flyway;

/**
 * The database: a Helidon {@link DbClient} (JDBC + Hikari) with the named statements of {@code db.statements},
 * schema migrated by Flyway from {@code classpath:db/migration}.
 */
public final class Database implements AutoCloseable {
    private final DbClient client;
    /** Present for the default embedded H2 store: acknowledged writes reach its file by group commit. */
    private final Optional<GroupCommit> groupCommit;
    private final int poolSize;

    private Database(DbClient client, Optional<GroupCommit> groupCommit, int poolSize) {
        this.client = client;
        this.groupCommit = groupCommit;
        this.poolSize = poolSize;
    }

    /** Hikari's pool size when none is configured (its {@code maximumPoolSize} default). */
    private static final int HIKARI_DEFAULT_POOL_SIZE = 10;

    /** The connections of this instance's pool: {@link #POOL_SIZE}, or its default for the store. */
    public int poolSize() {
        return poolSize;
    }

    /**
     * Opens the database described by {@code db} ({@code connection.url} defaults to an H2 file under the data
     * directory) and migrates it.
     */
    /**
     * Opens the database for a command-line tool; empty, with the reason printed to {@code err}, when it cannot be
     * opened (with the embedded H2 store: while the server holds its file).
     */
    public static Optional<Database> openForCommand(Config db, Settings settings, PrintStream err) {
        try {
            return Optional.of(open(db, settings));
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            err.println("cannot open the database (" + root.getMessage() + "). With the embedded H2 store, stop the "
                    + "server first: only one process can open its file.");
            return Optional.empty();
        }
    }

    public static Database open(Config db, Settings settings) {
        // the default embedded H2 store writes what the server acknowledges to its file by group commit (GroupCommit,
        // docs/operations.md "Durability"): H2's background writer alone (WRITE_DELAY) lost the last ~0.5 s when the
        // process was killed; a configured H2 URL keeps its own WRITE_DELAY (0: each commit written on its own)
        // QUERY_CACHE_SIZE: each embedded session keeps the parsed form of the statements it ran; with H2's
        // default of 8, the dozen statements of one node poll evicted each other, and a third of the database's
        // time went to parsing SQL again (docs/operations.md "Database connections")
        Optional<String> configured = db.get("connection.url").asString().asOptional();
        String url = configured.orElse("jdbc:h2:file:" + settings.dataDir().resolve("earnidle")
                + ";DATABASE_TO_LOWER=TRUE;QUERY_CACHE_SIZE=" + H2_QUERY_CACHE_SIZE);
        String user = db.get("connection.username").asString().orElse("sa");
        String password = db.get("connection.password").asString().orElse("");
        Flyway.configure()
                .dataSource(url, user, password)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        Map<String, String> connection = new HashMap<>(Map.of(
                "connection.url", url,
                "connection.username", user,
                "connection.password", password));
        if (db.get(POOL_SIZE).asString().isEmpty()) {
            embeddedPoolSize(url).ifPresent(size -> connection.put(POOL_SIZE, Integer.toString(size)));
        }
        Config effective = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(connection))
                .addSource(ConfigSources.create(db))
                .build();
        Optional<GroupCommit> groupCommit = Optional.empty();
        if (configured.isEmpty()) {
            try {
                groupCommit = Optional.of(new GroupCommit(url, user, password));
            } catch (SQLException e) {
                throw new IllegalStateException("cannot open the database for its group commit: " + e.getMessage(), e);
            }
        }
        int poolSize = effective.get(POOL_SIZE).asInt().orElse(HIKARI_DEFAULT_POOL_SIZE);
        DbClient client = DbClient.builder(effective).addService(new ThreadWrites()).build();
        return new Database(client, groupCommit, poolSize);
    }

    /**
     * The connection pool's size ({@code db.connection.maximumPoolSize}, a Hikari setting; docs/operations.md
     * "Database connections").
     */
    public static final String POOL_SIZE = "connection.maximumPoolSize";

    /** Parsed statements an embedded H2 session keeps (H2's default is 8), of the ~270 in application.yaml. */
    static final int H2_QUERY_CACHE_SIZE = 128;

    /**
     * The pool size of an embedded H2 store when none is configured: 16 per core. An embedded connection is a session
     * object in this JVM (no socket, no server process), so the pool only bounds how many transactions run at once;
     * Hikari's default of 10 made a thousand concurrent node polls wait for a connection (HTTP 500 after its 30 s
     * timeout) with the CPU not yet busy. Empty for any other store: a PostgreSQL server's connections are
     * processes it sizes itself (Hikari's default 10 per instance, or the configured size).
     */
    static Optional<Integer> embeddedPoolSize(String url) {
        boolean embedded = url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:tcp:")
                && !url.startsWith("jdbc:h2:ssl:");
        return embedded ? Optional.of(16 * Runtime.getRuntime().availableProcessors()) : Optional.empty();
    }

    public DbExecute execute() {
        return client.execute();
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    public <T> T inTransaction(Function<DbTransaction, T> work) {
        DbTransaction tx = client.transaction();
        T result;
        try {
            result = work.apply(tx);
        } catch (RuntimeException | Error e) {
            try {
                tx.rollback();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        tx.commit();
        awaitDurable();
        return result;
    }

    /**
     * Returns once every write committed before this call is in the store's file (the embedded H2 store's group
     * commit); at once for a store that makes each commit durable itself (PostgreSQL, a configured H2 URL). Every
     * {@link #inTransaction} ends with it.
     */
    public void awaitDurable() {
        ThreadWrites.take(); // this thread's writes so far are covered by the wait below
        groupCommit.ifPresent(GroupCommit::await);
    }

    /**
     * {@link #awaitDurable}, when this thread ran a statement that may write since its last wait (or since
     * {@link #forgetWrites}): the HTTP layer calls it before it answers a request that may have written outside a
     * transaction ({@code http/DurableResponses}). A request whose writes were all in transactions already waited, and
     * answers without a second wait.
     */
    public void awaitDurableIfWritten() {
        if (ThreadWrites.take()) {
            groupCommit.ifPresent(GroupCommit::await);
        }
    }

    /** Drops this thread's mark of writes: a request starts with none (its thread may have served another before). */
    public void forgetWrites() {
        ThreadWrites.take();
    }

    /** The group commit's finished checkpoints (0 for a store without one). */
    long checkpoints() {
        return groupCommit.map(GroupCommit::checkpoints).orElse(0L);
    }

    @Override
    public void close() {
        client.close();
        groupCommit.ifPresent(GroupCommit::close);
    }

    // ---- row helpers ----

    public static List<DbRow> list(DbExecute exec, String statement, Object... params) {
        try (Stream<DbRow> rows = exec.namedQuery(statement, params)) {
            return rows.toList();
        }
    }

    public static Optional<DbRow> get(DbExecute exec, String statement, Object... params) {
        return exec.namedGet(statement, params);
    }

    /** The {@code n} column of a counting statement's one row (0 without a row). */
    public static long count(DbExecute exec, String statement, Object... params) {
        return get(exec, statement, params).map(r -> lng(r, "n")).orElse(0L);
    }

    /** The {@code total} column of a summing statement's one row (0 without a row or for SQL NULL). */
    public static long total(DbExecute exec, String statement, Object... params) {
        return get(exec, statement, params).map(r -> lng(r, "total")).orElse(0L);
    }

    /** The row of {@code statement}, if {@code column} names {@code owner}; otherwise a 404 that says {@code what}. */
    public static DbRow owned(DbExecute exec, String statement, String id, String column, String owner,
                              String what) {
        return get(exec, statement, id)
                .filter(r -> owner.equals(str(r, column)))
                .orElseThrow(() -> io.earnidle.backend.http.Problem.notFound(what));
    }

    /**
     * Puts each of {@code columns} into {@code o} under its own name, as {@link #str} and {@link #lng} read it: text
     * as text, integers as numbers, SQL NULL as null. Not for timestamps or fractions.
     */
    public static ObjectNode copy(ObjectNode o, DbRow row, String... columns) {
        for (String column : columns) {
            Object v = raw(row, column);
            if (v == null) {
                o.putNull(column);
            } else if (v instanceof Number n) {
                o.put(column, n.longValue());
            } else {
                o.put(column, v.toString());
            }
        }
        return o;
    }

    /** The column's JDBC value, null for SQL NULL. */
    public static Object raw(DbRow row, String column) {
        return row.column(column).get(Object.class);
    }

    public static String str(DbRow row, String column) {
        Object v = raw(row, column);
        return v == null ? null : v.toString();
    }

    public static long lng(DbRow row, String column) {
        Object v = raw(row, column);
        return v == null ? 0L : ((Number) v).longValue();
    }

    public static Long lngOrNull(DbRow row, String column) {
        Object v = raw(row, column);
        return v == null ? null : ((Number) v).longValue();
    }

    public static double dbl(DbRow row, String column) {
        return ((Number) raw(row, column)).doubleValue();
    }

    public static boolean bool(DbRow row, String column) {
        return (Boolean) raw(row, column);
    }

    public static Instant instant(DbRow row, String column) {
        Object v = raw(row, column);
        if (v == null) {
            return null;
        }
        if (v instanceof OffsetDateTime odt) {
            return odt.toInstant();
        }
        if (v instanceof Timestamp ts) {
            return ts.toInstant();
        }
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof java.time.ZonedDateTime z) {
            return z.toInstant();
        }
        throw new IllegalStateException("unexpected timestamp type " + v.getClass() + " in " + column);
    }

    /** The value to bind for a TIMESTAMP WITH TIME ZONE parameter. */
    public static OffsetDateTime ts(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }
}
