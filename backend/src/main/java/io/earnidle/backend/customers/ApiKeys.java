package io.earnidle.backend.customers;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * Customers' API keys (table {@code api_keys}): a secret {@code ei_sk_} + 64 hex digits (256 bits), shown once when
 * it is created; only its SHA-256 is stored, with a short prefix to recognise it in lists. Job submission and
 * {@code /v1} authenticate a bearer secret here; a revoked key authenticates nothing.
 */
public final class ApiKeys {
    /** What every secret starts with (so that a leaked one can be recognised by secret scanners). */
    public static final String SECRET_PREFIX = "ei_sk_";
    /** Characters of the secret kept as its visible prefix: {@code ei_sk_} plus 6 hex digits. */
    static final int PREFIX_LENGTH = SECRET_PREFIX.length() + 6;

    /** The customer and key of an authenticated request. */
    public record Caller(String customerId, String keyId) {
    }

    /** A newly created key: its secret exists only in this value. */
    public record Created(String id, String name, String prefix, String secret, Instant createdAt) {
    }

    private ApiKeys() {
    }

    /** The caller of a bearer secret, if it is a key that is not revoked. */
    public static Optional<Caller> authenticate(DbExecute exec, String secret) {
        return authenticateHash(exec, Ids.sha256Hex(secret));
    }

    /**
     * The caller of a bearer secret given as its SHA-256 hex, if it is a key that is not revoked: for callers that
     * need the hash anyway (the per-key limits count on it), so that a request hashes its secret once.
     */
    public static Optional<Caller> authenticateHash(DbExecute exec, String secretSha256) {
        return Database.get(exec, "api-key-active-by-hash", secretSha256)
                .map(r -> new Caller(Database.str(r, "customer_id"), Database.str(r, "id")));
    }

    /** Creates a key named {@code name} for {@code customerId}. */
    public static Created create(DbExecute tx, String customerId, String name, Instant now) {
        String secret = SECRET_PREFIX + Ids.randomHex(32);
        String id = Ids.newId("key_");
        String prefix = secret.substring(0, PREFIX_LENGTH);
        tx.namedInsert("api-key-insert", id, customerId, name, prefix, Ids.sha256Hex(secret), Database.ts(now));
        return new Created(id, name, prefix, secret, now);
    }

    /** The keys of {@code customerId}, oldest first, revoked ones included. */
    public static List<DbRow> list(DbExecute exec, String customerId) {
        return Database.list(exec, "api-keys-of-customer", customerId);
    }

    /** Revokes a key of {@code customerId}; false when it is not theirs or already revoked. */
    public static boolean revoke(DbExecute tx, String customerId, String keyId, Instant now) {
        return tx.namedUpdate("api-key-revoke", Database.ts(now), keyId, customerId) == 1;
    }
}
