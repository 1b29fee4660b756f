package io.earnidle.backend.customers;

import java.time.Instant;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The customer side of a portal account, mounted at {@code /api/customer}: {@code GET /me} (balance), and the API
 * keys: {@code GET /keys}, {@code POST /keys} (the secret is in this answer only), {@code POST /keys/{id}/revoke}.
 * A portal account (signed in through the publishers' stack: Argon2id passwords, passkeys, session cookie and CSRF
 * token) becomes a customer when it creates its first key: a {@code customers} row linked to it by
 * {@code account_id}, with its own ledger account.
 */
public record CustomerService(Database db, Ledger ledger, PublisherSessions sessions, int maxBodyBytes)
        implements HttpService {
    /** Keys a customer may hold unrevoked at once (each is a credential to keep track of). */
    static final int MAX_ACTIVE_KEYS = 20;

    @Override
    public void routing(HttpRules rules) {
        rules.get("/me", this::me)
                .get("/keys", this::listKeys)
                .post("/keys", this::createKey)
                .post("/keys/{id}/revoke", this::revokeKey)
                .get("/usage", this::usage);
    }

    /** The customer id of a portal account, if it has become a customer. */
    static Optional<String> customerOf(DbExecute exec, String accountId) {
        return Database.get(exec, "customer-of-account", accountId).map(r -> Database.str(r, "id"));
    }

    private void me(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        ObjectNode o = Json.object();
        o.put("account_id", p.publisherId());
        Optional<String> customer = customerOf(db.execute(), p.publisherId());
        o.put("customer_id", customer.orElse(null));
        String account = customer.map(c -> Ledger.accountId("customer", c)).orElse(null);
        o.put("balance_micro_usdc", account == null ? 0 : ledger.available(db.execute(), account));
        o.put("committed_micro_usdc", customer.isEmpty() ? 0
                : Database.total(db.execute(), "customer-open-job-total", customer.get(), customer.get(),
                        customer.get()));
        Json.send(res, Status.OK_200, o);
    }

    private void listKeys(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        ObjectNode o = Json.object();
        ArrayNode data = o.putArray("data");
        customerOf(db.execute(), p.publisherId()).ifPresent(c -> {
            for (DbRow k : ApiKeys.list(db.execute(), c)) {
                data.add(keyJson(k));
            }
        });
        Json.send(res, Status.OK_200, o);
    }

    private void createKey(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String name = Fields.requiredString(body, "name", 100).strip();
        if (name.isEmpty()) {
            throw Problem.validation("name must not be blank: it says where the key is used");
        }
        Instant now = ledger.now();
        ApiKeys.Created key = db.inTransaction(tx -> {
            String customer = customerOf(tx, p.publisherId()).orElseGet(() -> becomeCustomer(tx, p, now));
            ledger.lock(tx, java.util.List.of(Ledger.accountId("customer", customer)));
            if (Database.count(tx, "api-key-active-count", customer) >= MAX_ACTIVE_KEYS) {
                throw Problem.conflict("at most " + MAX_ACTIVE_KEYS + " keys may be active at once; revoke one first");
            }
            return ApiKeys.create(tx, customer, name, now);
        });
        ObjectNode o = Json.object();
        o.put("id", key.id());
        o.put("name", key.name());
        o.put("prefix", key.prefix());
        o.put("secret", key.secret());
        o.put("created_at", key.createdAt().toString());
        o.putNull("revoked_at");
        Json.send(res, Status.CREATED_201, o);
    }

    private String becomeCustomer(DbExecute tx, PublisherSessions.Principal p, Instant now) {
        String name = Database.get(tx, "pub-by-id", p.publisherId()).map(r -> Database.str(r, "name"))
                .orElseThrow(() -> Problem.unauthorized("the account no longer exists"));
        String id = Ids.newId("cus_");
        tx.namedInsert("customer-insert-for-account", id, name, Database.ts(now), p.publisherId());
        ledger.ensureAccount(tx, "customer", id);
        return id;
    }

    private void revokeKey(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        String keyId = req.path().pathParameters().get("id");
        Instant now = ledger.now();
        DbRow key = db.inTransaction(tx -> {
            String customer = customerOf(tx, p.publisherId())
                    .orElseThrow(() -> Problem.notFound("no API key " + keyId));
            DbRow k = Database.get(tx, "api-key-of-customer", keyId, customer)
                    .orElseThrow(() -> Problem.notFound("no API key " + keyId));
            if (Database.raw(k, "revoked_at") != null) {
                throw Problem.conflict("API key " + keyId + " is already revoked");
            }
            ApiKeys.revoke(tx, customer, keyId, now);
            return Database.get(tx, "api-key-of-customer", keyId, customer).orElseThrow();
        });
        Json.send(res, Status.OK_200, keyJson(key));
    }

    private void usage(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.require(req);
        Optional<String> customer = customerOf(db.execute(), p.publisherId());
        // an account that is not a customer yet has used nothing: the same shape, all empty
        Json.send(res, Status.OK_200, Usage.of(db.execute(), customer.orElse(""), ledger.now()));
    }

    private static ObjectNode keyJson(DbRow k) {
        ObjectNode o = Json.object();
        o.put("id", Database.str(k, "id"));
        o.put("name", Database.str(k, "name"));
        o.put("prefix", Database.str(k, "prefix"));
        o.put("created_at", Database.instant(k, "created_at").toString());
        o.put("revoked_at", Database.raw(k, "revoked_at") == null ? null
                : Database.instant(k, "revoked_at").toString());
        return o;
    }
}
