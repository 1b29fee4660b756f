package io.earnidle.backend.auth;

import java.time.Instant;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.ClientAddresses;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.http.ProblemHandler;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.PublisherSettings;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Publisher accounts: {@code POST /api/publisher/signup}, {@code /signin}, {@code /signout},
 * {@code /signout-everywhere} and {@code GET /api/publisher/me}. Failed sign-ins and sign-ups are counted per client
 * address as {@link ClientAddresses} resolves it (behind a trusted reverse proxy: the forwarded client, not the
 * proxy, so one attacker cannot lock every publisher out).
 */
public record AuthService(Database db, Ledger ledger, PublisherSessions sessions, PasswordHasher hasher,
                          PublisherSettings settings, int maxBodyBytes, ClientAddresses clients,
                          SignupLimit signups) implements HttpService {
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s.]+(\\.[^@\\s.]+)+");
    static final int MIN_PASSWORD = 12;
    static final int MAX_PASSWORD = 256;

    public AuthService(Database db, Ledger ledger, PublisherSessions sessions, PasswordHasher hasher,
                       PublisherSettings settings, int maxBodyBytes, ClientAddresses clients) {
        this(db, ledger, sessions, hasher, settings, maxBodyBytes, clients,
                new SignupLimit(settings.signupMaxPerClient(), settings.signupWindow(), null));
    }

    /** Sign-ups counted in the cluster's {@code sharedLimits} (null: in this instance's memory). */
    public AuthService(Database db, Ledger ledger, PublisherSessions sessions, PasswordHasher hasher,
                       PublisherSettings settings, int maxBodyBytes, ClientAddresses clients,
                       RateCounters sharedLimits) {
        this(db, ledger, sessions, hasher, settings, maxBodyBytes, clients,
                new SignupLimit(settings.signupMaxPerClient(), settings.signupWindow(), sharedLimits));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/signup", this::signup)
                .post("/signin", this::signin)
                .post("/signout", this::signout)
                .post("/signout-everywhere", this::signoutEverywhere)
                .get("/me", this::me);
    }

    static String email(ObjectNode body) {
        String email = Fields.requiredString(body, "email", 254).strip().toLowerCase(Locale.ROOT);
        if (!EMAIL.matcher(email).matches()) {
            throw Problem.validation("email must be an e-mail address like name@example.com");
        }
        return email;
    }

    private void signup(ServerRequest req, ServerResponse res) {
        sessions.checkOrigin(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String email = email(body);
        String password = Fields.requiredString(body, "password", MAX_PASSWORD);
        if (password.length() < MIN_PASSWORD) {
            throw Problem.validation("password must be at least " + MIN_PASSWORD + " characters, got "
                    + password.length());
        }
        String name = Fields.present(body, "name") ? Fields.requiredString(body, "name", 100).strip()
                : email.substring(0, email.indexOf('@'));
        if (name.isEmpty()) {
            throw Problem.validation("name must not be blank");
        }
        signups.admit(clients.of(req), ledger.now());
        String hash = hasher.hash(password);
        Instant now = ledger.now();
        String id = Ids.newId("pub_");
        String csrf = db.inTransaction(tx -> {
            if (Database.get(tx, "pub-by-email", email).isPresent()) {
                throw Problem.conflict("an account with this e-mail already exists; sign in instead");
            }
            tx.namedInsert("pub-insert", id, name, email, hash, Database.ts(now));
            ledger.ensureAccount(tx, "publisher", id);
            return sessions.start(tx, req, res, id);
        });
        Json.send(res, Status.CREATED_201, meBody(id, csrf));
    }

    private void signin(ServerRequest req, ServerResponse res) {
        sessions.checkOrigin(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String email = email(body);
        String password = Fields.requiredString(body, "password", MAX_PASSWORD);
        String client = clients.of(req);
        Instant now = ledger.now();
        Instant since = now.minus(settings.loginWindow());
        long byEmail = Database.count(db.execute(), "login-failures-by-email", email, Database.ts(since));
        long byClient = Database.count(db.execute(), "login-failures-by-client", client, Database.ts(since));
        if (byEmail >= settings.loginMaxFailures() || byClient >= settings.loginMaxClientFailures()) {
            // sent here rather than thrown: the error handler would drop the Retry-After header
            res.headers().set(HeaderNames.RETRY_AFTER, String.valueOf(settings.loginWindow().toSeconds()));
            ProblemHandler.send(req, res, new Problem(429, "rate-limited", "Too many sign-in attempts",
                    "too many failed sign-ins for this account or from this address; try again in "
                            + settings.loginWindow().toMinutes() + " minutes (or sign in with a passkey)"));
            return;
        }
        DbRow row = Database.get(db.execute(), "pub-by-email", email).orElse(null);
        String stored = row == null ? null : Database.str(row, "password_hash");
        if (!hasher.verify(password, stored)) {
            db.execute().namedInsert("insert-login-failure", Ids.newId("lf_"), email, client, Database.ts(now));
            throw Problem.unauthorized("wrong e-mail or password");
        }
        String id = Database.str(row, "id");
        String csrf = db.inTransaction(tx -> {
            tx.namedDelete("clear-login-failures", email);
            return sessions.start(tx, req, res, id);
        });
        Json.send(res, Status.OK_200, meBody(id, csrf));
    }

    private void signout(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        sessions.end(p);
        sessions.clearCookie(req, res);
        res.status(Status.NO_CONTENT_204).send();
    }

    private void signoutEverywhere(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        long ended = sessions.endAll(p.publisherId());
        sessions.clearCookie(req, res);
        Json.send(res, Status.OK_200, Json.object().put("sessions_ended", ended));
    }

    private void me(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        Json.send(res, Status.OK_200, meBody(p.publisherId(), p.csrfToken()));
    }

    private ObjectNode meBody(String publisherId, String csrf) {
        PayoutWalletChanges.applyDue(db.execute(), publisherId, ledger.now());
        DbRow row = Database.get(db.execute(), "pub-by-id", publisherId)
                .orElseThrow(() -> Problem.unauthorized("the account no longer exists"));
        ObjectNode o = Json.object();
        o.put("id", publisherId);
        o.put("email", Database.str(row, "email"));
        o.put("name", Database.str(row, "name"));
        o.put("payout_address", Database.str(row, "payout_address"));
        DbRow wallet = Database.get(db.execute(), "pub-payout-wallet", publisherId).orElseThrow();
        o.put("pending_payout_address", Database.str(wallet, "pending_payout_address"));
        Instant effective = Database.instant(wallet, "pending_payout_effective_at");
        o.put("pending_payout_effective_at", effective == null ? null : effective.toString());
        o.put("passkeys", Database.count(db.execute(), "passkey-count", publisherId));
        o.put("csrf_token", csrf);
        return o;
    }
}
