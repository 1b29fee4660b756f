package io.earnidle.backend.wallets;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Bearer;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.webserver.http.ServerRequest;

import static io.earnidle.backend.db.Database.ts;

/**
 * Verified wallets: SIWE nonces and verification, wallet bearer tokens, the link between node sessions and a wallet,
 * and the sweep that moves a linked session's available credits into the wallet's ledger account
 * ({@code wallet:<lowercase address>}).
 */
public record Wallets(Database db, Ledger ledger, WalletSettings settings) {
    /** An authenticated wallet (by its bearer token). */
    public record Wallet(String address) {
        public String accountId() {
            return accountIdOf(address);
        }
    }

    /** The result of a successful SIWE verification. */
    public record Verified(String address, String token, Instant expiresAt) {
    }

    public static String accountIdOf(String address) {
        return Ledger.accountId("wallet", address);
    }

    /** Issues a fresh single-use nonce; returns it with its expiry. */
    public String newNonce(Instant now) {
        String nonce = Ids.randomHex(16);
        db.inTransaction(tx -> {
            // expired nonces can never verify (used ones included: expiry alone refuses a replay), so they go
            tx.namedDelete("w-delete-old-nonces", ts(now));
            tx.namedInsert("w-insert-nonce", nonce, ts(now), ts(now.plusSeconds(settings.nonceTtlSeconds())));
            return null;
        });
        return nonce;
    }

    /**
     * Verifies a SIWE message and its signature; on success consumes the nonce, records the wallet and issues a
     * bearer token. Every rejection is a {@link Problem} naming the reason: 400 for a malformed message or
     * signature, 401 for a wrong domain, URI, chain, time, nonce (unknown, used, expired) or signer.
     *
     * @param expectedDomain host[:port] the message must name
     */
    public Verified verify(String messageText, String signature, String expectedDomain, Instant now) {
        return verify(messageText, signature, expectedDomain, now, true);
    }

    /**
     * Checks a SIWE message and its signature exactly as {@link #verify} does (and consumes the nonce, records the
     * wallet) but issues no wallet bearer token: for callers that authenticate otherwise (a customer proving a
     * deposit wallet with its API key). Returns the proved lowercase address.
     */
    public String prove(String messageText, String signature, String expectedDomain, Instant now) {
        return verify(messageText, signature, expectedDomain, now, false).address();
    }

    private Verified verify(String messageText, String signature, String expectedDomain, Instant now,
                            boolean issueToken) {
        SiweMessage m;
        try {
            m = SiweMessage.parse(messageText);
        } catch (IllegalArgumentException e) {
            throw Problem.validation("malformed SIWE message: " + e.getMessage());
        }
        if (!m.domain().equalsIgnoreCase(expectedDomain)) {
            throw Problem.unauthorized("SIWE domain '" + m.domain() + "' is not this site's domain '"
                    + expectedDomain + "'");
        }
        String uriAuthority = authority(m.uri());
        if (uriAuthority == null || !uriAuthority.equalsIgnoreCase(expectedDomain)) {
            throw Problem.unauthorized("SIWE URI '" + m.uri() + "' is not on this site's domain '"
                    + expectedDomain + "'");
        }
        if (m.chainId() != settings.chainId()) {
            throw Problem.unauthorized("SIWE Chain ID " + m.chainId() + " is not this network's chain id "
                    + settings.chainId());
        }
        Duration skew = Duration.ofSeconds(settings.clockSkewSeconds());
        if (m.issuedAt().isAfter(now.plus(skew))) {
            throw Problem.unauthorized("SIWE Issued At " + m.issuedAt() + " is in the future");
        }
        if (m.issuedAt().isBefore(now.minusSeconds(settings.nonceTtlSeconds()).minus(skew))) {
            throw Problem.unauthorized("SIWE message is too old (Issued At " + m.issuedAt() + ")");
        }
        if (m.expirationTime() != null && !m.expirationTime().isAfter(now)) {
            throw Problem.unauthorized("SIWE message expired at " + m.expirationTime());
        }
        if (m.notBefore() != null && m.notBefore().isAfter(now.plus(skew))) {
            throw Problem.unauthorized("SIWE message is not valid before " + m.notBefore());
        }
        String signer;
        try {
            signer = EthSignatures.recoverPersonalSignAddress(messageText, signature);
        } catch (IllegalArgumentException e) {
            throw Problem.validation("signature: " + e.getMessage());
        }
        String address = m.address().toLowerCase();
        if (!signer.equals(address)) {
            throw Problem.unauthorized("SIWE signature was made by " + signer + ", not by " + address);
        }
        String token = "wst_" + Ids.randomHex(32);
        Instant expires = now.plusSeconds(settings.sessionTtlSeconds());
        db.inTransaction(tx -> {
            Optional<DbRow> nonce = Database.get(tx, "w-nonce", m.nonce());
            if (nonce.isEmpty()) {
                throw Problem.unauthorized("SIWE nonce " + m.nonce() + " was not issued by this server");
            }
            if (Database.raw(nonce.get(), "used_at") != null) {
                throw Problem.unauthorized("SIWE nonce " + m.nonce() + " was already used (replayed message)");
            }
            if (!Database.instant(nonce.get(), "expires_at").isAfter(now)) {
                throw Problem.unauthorized("SIWE nonce " + m.nonce() + " has expired; ask for a new one");
            }
            if (tx.namedUpdate("w-use-nonce", ts(now), m.nonce(), ts(now)) != 1) {
                throw Problem.unauthorized("SIWE nonce " + m.nonce() + " was already used (replayed message)");
            }
            if (Database.get(tx, "w-wallet", address).isEmpty()) {
                tx.namedInsert("w-insert-wallet", address, ts(now), ts(now));
            } else {
                tx.namedUpdate("w-update-wallet", ts(now), address);
            }
            ledger.ensureAccount(tx, "wallet", address);
            if (issueToken) {
                tx.namedInsert("w-insert-session", Ids.newId("ws_"), Ids.sha256Hex(token), address, ts(now),
                        ts(expires));
            }
            return null;
        });
        return new Verified(address, issueToken ? token : null, expires);
    }

    /** The wallet of the request's bearer token (401 when missing, unknown or expired). */
    public Wallet authenticate(ServerRequest req, Instant now) {
        return byToken(Bearer.token(req), now)
                .orElseThrow(() -> Problem.unauthorized("unknown or expired wallet token; verify the wallet again"));
    }

    /** The wallet of a bearer token, if it is known and unexpired. */
    public Optional<Wallet> byToken(String token, Instant now) {
        return addressForToken(db.execute(), token, now).map(Wallet::new);
    }

    /** The wallet address of a known, unexpired wallet bearer token (used by node registration). */
    public static Optional<String> addressForToken(DbExecute exec, String token, Instant now) {
        if (token == null || token.isEmpty() || token.length() > 200) {
            return Optional.empty();
        }
        return Database.get(exec, "w-session-by-token", Ids.sha256Hex(token))
                .filter(r -> Database.instant(r, "expires_at").isAfter(now))
                .map(r -> Database.str(r, "address"));
    }

    /**
     * Links a node session to a wallet (idempotent for the same wallet). Call inside a transaction.
     *
     * @return false when the session is already linked to another wallet
     */
    public static boolean link(DbExecute exec, String sessionId, String address) {
        return exec.namedUpdate("w-link-node-session", address, sessionId, address) == 1;
    }

    /** Node sessions linked to the wallet. */
    public List<String> linkedSessions(DbExecute exec, String address) {
        List<String> ids = new ArrayList<>();
        for (DbRow r : Database.list(exec, "w-linked-sessions", address)) {
            ids.add(Database.str(r, "id"));
        }
        return ids;
    }

    /**
     * Moves the available balance of every node session linked to the wallet into the wallet's account (one
     * {@code wallet_sweep} transaction per session, referencing it). Locks the wallet and session accounts (and
     * {@code extraAccounts}) in id order first. Call inside a transaction.
     */
    public void sweep(DbExecute exec, String address, List<String> extraAccounts) {
        List<String> sessions = linkedSessions(exec, address);
        List<String> accounts = new ArrayList<>(extraAccounts);
        accounts.add(accountIdOf(address));
        for (String s : sessions) {
            accounts.add(Ledger.accountId("node_session", s));
        }
        ledger.lock(exec, accounts);
        for (String s : sessions) {
            String account = Ledger.accountId("node_session", s);
            long available = ledger.available(exec, account);
            if (available > 0) {
                ledger.transfer(exec, "wallet_sweep", s, account, accountIdOf(address), available);
            }
        }
    }

    /** Credits of linked sessions (and the wallet) still inside the verification window. */
    public long pending(DbExecute exec, String address) {
        long total = ledger.pending(exec, accountIdOf(address));
        for (String s : linkedSessions(exec, address)) {
            total += ledger.pending(exec, Ledger.accountId("node_session", s));
        }
        return total;
    }

    /** host[:port] of an absolute URI, or null. */
    static String authority(String uri) {
        try {
            java.net.URI u = new java.net.URI(uri);
            return u.getScheme() == null ? null : u.getRawAuthority();
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }
}
