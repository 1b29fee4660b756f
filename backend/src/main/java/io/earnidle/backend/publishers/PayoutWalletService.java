package io.earnidle.backend.publishers;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PasswordHasher;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.placements.PlacementService;
import io.earnidle.backend.settings.PublisherSettings;
import io.earnidle.backend.wallets.EthSignatures;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The publisher's payout wallet, proven by an EIP-191 ({@code personal_sign}) signature of a sign-in-with-Ethereum
 * style message the server issued (single use, 10 minutes). Recovery is the wallets package's
 * {@link EthSignatures#recoverPersonalSignAddress}; no private key ever reaches the backend. Proving needs
 * re-authentication: a session signed in within {@code reauth-seconds}, or the account's {@code password} in the
 * body. Replacing an already proved wallet takes effect only {@code payout-wallet-change-delay-hours} later
 * ({@link PayoutWalletChanges}), announced at once by a notice, so a stolen session cannot redirect a withdrawal.
 */
public record PayoutWalletService(Database db, Ledger ledger, PublisherSessions sessions, int maxBodyBytes,
                                  PasswordHasher hasher, PublisherSettings settings) implements HttpService {
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final Duration TTL = Duration.ofMinutes(10);

    @Override
    public void routing(HttpRules rules) {
        rules.post("/challenge", this::challenge)
                .post("/", this::prove);
    }

    private void challenge(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String address = Fields.requiredString(body, "address", 42).strip();
        if (!ADDRESS.matcher(address).matches()) {
            throw Problem.validation("address must be 0x followed by 40 hex digits");
        }
        Instant now = ledger.now();
        String nonce = Ids.randomHex(16);
        String origin = PlacementService.ownOrigin(req);
        String message = req.requestedUri().host() + " wants you to sign in with your Ethereum account:\n"
                + address + "\n\nUse this address as my Earn Idle payout wallet.\n\n"
                + "URI: " + origin + "/portal/\nVersion: 1\nChain ID: 1\nNonce: " + nonce
                + "\nIssued At: " + now + "\nExpiration Time: " + now.plus(TTL);
        String id = Ids.newId("wch_");
        db.execute().namedInsert("insert-webauthn-challenge", id, p.publisherId(), "wallet", Ids.sha256Hex(message),
                Database.ts(now.plus(TTL)));
        Json.send(res, Status.OK_200, Json.object().put("challenge_id", id).put("message", message));
    }

    private void prove(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String id = Fields.requiredString(body, "challenge_id", 64);
        String message = Fields.requiredString(body, "message", 2000);
        String signature = Fields.requiredString(body, "signature", 200).strip();
        DbRow row = Database.get(db.execute(), "webauthn-challenge", id)
                .filter(r -> "wallet".equals(Database.str(r, "purpose"))
                        && p.publisherId().equals(Database.str(r, "publisher_id")))
                .orElseThrow(() -> Problem.validation("challenge_id is unknown or already used; ask for a new message"));
        if (!Database.instant(row, "expires_at").isAfter(ledger.now())) {
            throw Problem.validation("the message expired; ask for a new one");
        }
        if (!Ids.sha256Hex(message).equals(Database.str(row, "challenge"))) {
            throw Problem.validation("message is not the one issued for challenge_id (sign it exactly as given)");
        }
        String[] lines = message.split("\n");
        String address = lines[1].toLowerCase(Locale.ROOT);
        String signer;
        try {
            signer = EthSignatures.recoverPersonalSignAddress(message, signature);
        } catch (IllegalArgumentException e) {
            throw Problem.validation("signature: " + e.getMessage());
        }
        if (!signer.equals(address)) {
            throw Problem.validation("the signature was made by " + signer + ", not by " + lines[1]);
        }
        Instant now = ledger.now();
        DbRow pub = Database.get(db.execute(), "pub-payout-wallet", p.publisherId()).orElseThrow();
        reauthenticate(p, body, pub, now);
        String current = Database.str(pub, "payout_address");
        if (current == null || current.equals(address)) {
            db.inTransaction(tx -> {
                tx.namedDelete("delete-webauthn-challenge", id);
                tx.namedUpdate("set-payout-address", address, Database.ts(now), p.publisherId());
                tx.namedUpdate("set-pending-payout-address", null, null, p.publisherId());
                return null;
            });
            Json.send(res, Status.OK_200, Json.object().put("payout_address", address));
            return;
        }
        Instant effective = now.plus(settings.payoutWalletChangeDelay());
        db.inTransaction(tx -> {
            tx.namedDelete("delete-webauthn-challenge", id);
            tx.namedUpdate("set-pending-payout-address", address, Database.ts(effective), p.publisherId());
            tx.namedInsert("insert-notice", Ids.newId("ntc_"), p.publisherId(), "Your payout wallet will change from "
                    + current + " to " + address + " at " + effective + ". Until then withdrawals go to " + current
                    + ". If you did not ask for this, sign out everywhere, change your password and prove your wallet"
                    + " again.", Database.ts(now));
            return null;
        });
        Json.send(res, Status.ACCEPTED_202, Json.object().put("payout_address", current)
                .put("pending_payout_address", address).put("effective_at", effective.toString()));
    }

    /** A session signed in within the re-authentication window, or the account's password in the body; else 401. */
    private void reauthenticate(PublisherSessions.Principal p, ObjectNode body, DbRow pub, Instant now) {
        if (Fields.present(body, "password")) {
            String password = Fields.requiredString(body, "password", 256);
            if (!hasher.verify(password, Database.str(pub, "password_hash"))) {
                throw Problem.unauthorized("wrong password");
            }
            return;
        }
        Instant signedIn = Database.get(db.execute(), "pub-session-created", p.sessionId())
                .map(r -> Database.instant(r, "created_at")).orElse(Instant.EPOCH);
        if (signedIn.plus(settings.reauthWindow()).isBefore(now)) {
            throw Problem.unauthorized("changing the payout wallet needs re-authentication: send your password, "
                    + "or sign in again");
        }
    }
}
