package io.earnidle.backend;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.backend.wallets.SiweMessage;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static io.earnidle.backend.TestSupport.assertLedgerConsistent;
import static io.earnidle.backend.TestSupport.count;
import static io.earnidle.backend.TestSupport.quote;
import static io.earnidle.backend.WalletTestSupport.personalSign;
import static io.earnidle.backend.WalletTestSupport.signWithdraw;
import static io.earnidle.backend.WalletTestSupport.siwe;
import static io.earnidle.backend.WalletTestSupport.withdrawBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIWE verification (and each way it is refused), wallet-linked node sessions with a verification window, and
 * every refusal of a withdraw request. No chain here: the token is configured but no sender runs, so accepted
 * withdrawals stay 'requested'.
 */
@ServerTest
class WalletFlowTest extends BackendServerTest {
    private static final TestSupport.MutableClock CLOCK = new TestSupport.MutableClock();
    private static final String TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

    private final Api api;

    WalletFlowTest(Http1Client client) {
        this.api = new Api(client);
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.ledger.verification-window-seconds", "3600",
                "earnidle.trust.sample-rate", "0", // synthetic results, paid unverified (docs/trust.md)
                "earnidle.payouts.token-address", TOKEN,
                "earnidle.payouts.min-withdrawal-micro-usdc", "100"), CLOCK);
    }

    private JsonNode nonce() {
        Resp r = api.post("/api/wallets/siwe/nonce", null, "{}");
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    private Resp verify(String message, String signature) {
        return api.post("/api/wallets/siwe/verify", null,
                "{\"message\":%s,\"signature\":\"%s\"}".formatted(quote(message), signature));
    }

    @Test
    void personalSignRecoveryMatchesAKnownKey() {
        Credentials key = Credentials.create("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d");
        String sig = personalSign(key, "hello earn idle");
        assertEquals("0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1",
                EthSignatures.recoverPersonalSignAddress("hello earn idle", sig));
        assertTrue(!EthSignatures.recoverPersonalSignAddress("hello earn idle!", sig)
                .equals("0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1"));
        assertThrows(IllegalArgumentException.class, () -> EthSignatures.recoverPersonalSignAddress("x", "0x12"));
        assertThrows(IllegalArgumentException.class,
                () -> EthSignatures.normalizeAddress("0x90F8bf6A479f320ead074411a4B0e7944Ea8c9c1", "a"));
    }

    @Test
    void siweMessagesRoundTrip() {
        Credentials key = WalletTestSupport.newKey();
        SiweMessage m = siwe(key, "example.test:8080", 1337, "abcdef0123456789", Instant.parse("2026-01-02T03:04:05Z"));
        assertEquals(m, SiweMessage.parse(m.format()));
        assertTrue(m.format().startsWith("http://example.test:8080 wants you to sign in with your Ethereum account:\n"
                + EthSignatures.checksum(key.getAddress()) + "\n\n"), m.format());
    }

    @Test
    void siweVerificationAndEveryRejection() {
        Credentials key = WalletTestSupport.newKey();
        Instant now = CLOCK.instant();
        JsonNode n = nonce();
        String domain = n.path("domain").asText();
        assertTrue(domain.startsWith("localhost:") || domain.startsWith("127.0.0.1:"), domain);
        long chain = n.path("chain_id").asLong();
        assertEquals(1337, chain);
        SiweMessage good = siwe(key, domain, chain, n.path("nonce").asText(), now);
        String goodText = good.format();

        // malformed: garbage, a lowercase (non EIP-55) address, a bad signature encoding
        verify("hello", personalSign(key, "hello")).problem(400, "validation");
        String lower = goodText.replace(EthSignatures.checksum(key.getAddress()), key.getAddress().toLowerCase());
        JsonNode p = verify(lower, personalSign(key, lower)).problem(400, "validation");
        assertTrue(p.path("detail").asText().contains("EIP-55"), p.toString());
        verify(goodText, "0xdeadbeef").problem(400, "validation");
        // cross-domain: a phishing site's domain, or a URI on another origin
        String other = siwe(key, "evil.example", chain, n.path("nonce").asText(), now).format();
        p = verify(other, personalSign(key, other)).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("domain"), p.toString());
        String otherUri = goodText.replace("URI: http://" + domain, "URI: http://evil.example");
        verify(otherUri, personalSign(key, otherUri)).problem(401, "unauthorized");
        // wrong chain
        String wrongChain = siwe(key, domain, 8453, n.path("nonce").asText(), now).format();
        p = verify(wrongChain, personalSign(key, wrongChain)).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("Chain ID"), p.toString());
        // signed by someone else
        p = verify(goodText, personalSign(WalletTestSupport.newKey(), goodText)).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("signature"), p.toString());
        // a nonce this server never issued
        String unknown = siwe(key, domain, chain, "zzzzzzzzzzzzzzzz", now).format();
        verify(unknown, personalSign(key, unknown)).problem(401, "unauthorized");
        // an expired message
        SiweMessage expired = new SiweMessage(good.scheme(), good.domain(), good.address(), good.statement(),
                good.uri(), "1", chain, good.nonce(), now.minusSeconds(120), now.minusSeconds(1), null, null, null);
        p = verify(expired.format(), personalSign(key, expired.format())).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("expired"), p.toString());
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM wallet_sessions"));

        // the good one passes once; replaying it is refused
        Resp ok = verify(goodText, personalSign(key, goodText));
        assertEquals(200, ok.status(), ok.text());
        assertTrue(ok.json().path("wallet_token").asText().startsWith("wst_"));
        p = verify(goodText, personalSign(key, goodText)).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("already used"), p.toString());

        // a nonce that expired before use
        JsonNode late = nonce();
        CLOCK.advance(Duration.ofSeconds(301));
        String lateText = siwe(key, domain, chain, late.path("nonce").asText(), CLOCK.instant()).format();
        p = verify(lateText, personalSign(key, lateText)).problem(401, "unauthorized");
        assertTrue(p.path("detail").asText().contains("expired"), p.toString());

        api.get("/api/wallets/me", "wst_unknown").problem(401, "unauthorized");
        Resp me = api.get("/api/wallets/me", ok.json().path("wallet_token").asText());
        assertEquals(200, me.status(), me.text());
        assertEquals(key.getAddress().toLowerCase(), me.json().path("address").asText());
    }

    @Test
    void linkedSessionsCreditTheWalletAfterTheWindowAndWithdrawalsAreChecked() {
        Credentials key = WalletTestSupport.newKey();
        String token = WalletTestSupport.signIn(api, key, CLOCK.instant());
        String address = key.getAddress().toLowerCase();
        String account = Ledger.accountId("wallet", address);

        // a session registered with the wallet token is linked at birth
        Resp reg = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                .formatted(token));
        assertEquals(201, reg.status(), reg.text());
        api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"wst_nope"}""")
                .problem(401, "unauthorized");
        String linked = reg.json().path("session_token").asText();
        // an anonymous session, linked later by its token
        String anonymous = api.register();

        JsonNode a = api.complete(linked, api.submit("one", 4).path("id").asText());
        JsonNode b = api.complete(anonymous, api.submit("two", 4).path("id").asText());
        long perJob = a.path("payout_micro_usdc").asLong();
        assertEquals(perJob, b.path("payout_micro_usdc").asLong());

        Resp link = api.post("/api/wallets/sessions", token, "{\"session_token\":\"%s\"}".formatted(anonymous));
        assertEquals(200, link.status(), link.text());
        assertEquals(2, link.json().path("linked_sessions").asInt());
        assertEquals(0, link.json().path("balance_micro_usdc").asLong(), "still inside the verification window");
        assertEquals(2 * perJob, link.json().path("pending_micro_usdc").asLong());
        assertEquals(2, link.json().path("jobs_completed").asInt());
        // another wallet cannot take a linked session
        String otherToken = WalletTestSupport.signIn(api, WalletTestSupport.newKey(), CLOCK.instant());
        api.post("/api/wallets/sessions", otherToken, "{\"session_token\":\"%s\"}".formatted(anonymous))
                .problem(409, "conflict");
        api.post("/api/wallets/sessions", otherToken, "{\"session_token\":\"nst_nope\"}").problem(404, "not-found");

        String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
        long deadline = CLOCK.instant().getEpochSecond() + 600;
        // nothing available yet
        api.post("/api/payouts", token, withdrawBody(perJob, dest, 1, deadline,
                signWithdraw(key.getEcKeyPair(), 1337, account, dest, perJob, 1, deadline)))
                .problem(402, "insufficient-funds");

        CLOCK.advance(Duration.ofSeconds(3601));
        deadline = CLOCK.instant().getEpochSecond() + 600;
        JsonNode me = api.get("/api/wallets/me", token).json();
        assertEquals(2 * perJob, me.path("balance_micro_usdc").asLong());
        assertEquals(0, me.path("pending_micro_usdc").asLong());

        long amount = perJob + 1;
        String sig = signWithdraw(key.getEcKeyPair(), 1337, account, dest, amount, 7, deadline);
        // refusals: below minimum, bad destination, deadline passed / too far, tampered amount, other signer,
        // wrong chain in the signature, missing wallet token
        api.post("/api/payouts", token, withdrawBody(99, dest, 7, deadline, sig)).problem(400, "validation");
        api.post("/api/payouts", token, withdrawBody(amount, "0x1234", 7, deadline, sig)).problem(400, "validation");
        api.post("/api/payouts", token, withdrawBody(amount, dest, 7, CLOCK.instant().getEpochSecond() - 1, sig))
                .problem(400, "validation");
        api.post("/api/payouts", token, withdrawBody(amount, dest, 7, deadline + 90000, sig))
                .problem(400, "validation");
        api.post("/api/payouts", token, withdrawBody(amount + 1, dest, 7, deadline, sig))
                .problem(401, "unauthorized");
        api.post("/api/payouts", token, withdrawBody(amount, dest, 7, deadline,
                signWithdraw(WalletTestSupport.newKey().getEcKeyPair(), 1337, account, dest, amount, 7, deadline)))
                .problem(401, "unauthorized");
        api.post("/api/payouts", token, withdrawBody(amount, dest, 7, deadline,
                signWithdraw(key.getEcKeyPair(), 8453, account, dest, amount, 7, deadline)))
                .problem(401, "unauthorized");
        api.post("/api/payouts", null, withdrawBody(amount, dest, 7, deadline, sig)).problem(401, "unauthorized");
        assertEquals(0, count(backend.database(), "SELECT COUNT(*) AS n FROM payouts"));

        Resp accepted = api.post("/api/payouts", token, withdrawBody(amount, dest, 7, deadline, sig));
        assertEquals(202, accepted.status(), accepted.text());
        assertEquals("requested", accepted.json().path("status").asText());
        assertEquals("/api/payouts/" + accepted.json().path("id").asText(), accepted.location());
        // replay of the same signed request
        JsonNode replay = api.post("/api/payouts", token, withdrawBody(amount, dest, 7, deadline, sig))
                .problem(409, "conflict");
        assertTrue(replay.path("detail").asText().contains("nonce"), replay.toString());
        // more than what is left
        long left = 2 * perJob - amount;
        api.post("/api/payouts", token, withdrawBody(left + 1, dest, 8, deadline,
                signWithdraw(key.getEcKeyPair(), 1337, account, dest, left + 1, 8, deadline)))
                .problem(402, "insufficient-funds");

        me = api.get("/api/wallets/me", token).json();
        assertEquals(left, me.path("balance_micro_usdc").asLong());
        assertEquals(amount, me.path("in_flight_micro_usdc").asLong());
        assertEquals(8, me.path("next_withdraw_nonce").asLong());
        JsonNode history = api.get("/api/payouts", token).json().path("payouts");
        assertEquals(1, history.size());
        api.get("/api/payouts/" + accepted.json().path("id").asText(), otherToken).problem(404, "not-found");
        assertEquals(amount, TestSupport.balance(backend.database(), Ledger.PAYOUTS_IN_FLIGHT_ACCOUNT));
        assertLedgerConsistent(backend.database());
    }
}
