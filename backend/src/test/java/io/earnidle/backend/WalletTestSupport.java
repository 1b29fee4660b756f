package io.earnidle.backend;

import java.math.BigInteger;
import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.payouts.WithdrawTypedData;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.backend.wallets.SiweMessage;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Wallet-side helpers for tests: a key that signs SIWE messages and EIP-712 withdraw requests (web3j). */
public final class WalletTestSupport {
    private WalletTestSupport() {
    }

    public static Credentials newKey() {
        try {
            return Credentials.create(org.web3j.crypto.Keys.createEcKeyPair());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(Sign.SignatureData s) {
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return Numeric.toHexString(out);
    }

    public static String personalSign(Credentials key, String message) {
        return hex(Sign.signPrefixedMessage(message.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                key.getEcKeyPair()));
    }

    /** A SIWE message for this key, valid by default; callers tweak fields through the record's copy. */
    public static SiweMessage siwe(Credentials key, String domain, long chainId, String nonce, Instant issuedAt) {
        return new SiweMessage("http", domain, EthSignatures.checksum(key.getAddress()),
                "Sign in to Earn Idle to receive your rewards in this wallet.", "http://" + domain, "1", chainId,
                nonce, issuedAt, issuedAt.plusSeconds(600), null, null, null);
    }

    public static String signWithdraw(ECKeyPair key, long chainId, String account, String destination, long amount,
                               long nonce, long deadline) {
        String typed = Json.write(WithdrawTypedData.of(chainId, account, destination, amount, nonce, deadline));
        try {
            return hex(Sign.signTypedData(typed, key));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String withdrawBody(long amount, String destination, long nonce, long deadline, String signature) {
        return """
                {"amount_micro_usdc":%d,"destination":"%s","nonce":%d,"deadline":%d,"signature":"%s"}"""
                .formatted(amount, destination, nonce, deadline, signature);
    }

    /** Nonce → sign → verify over the API; returns the wallet token. */
    static String signIn(TestSupport.Api api, Credentials key, Instant now) {
        TestSupport.Resp n = api.post("/api/wallets/siwe/nonce", null, "{}");
        assertEquals(201, n.status(), n.text());
        JsonNode nonce = n.json();
        SiweMessage m = siwe(key, nonce.path("domain").asText(), nonce.path("chain_id").asLong(),
                nonce.path("nonce").asText(), now);
        String text = m.format();
        TestSupport.Resp v = api.post("/api/wallets/siwe/verify", null, """
                {"message":%s,"signature":"%s"}""".formatted(TestSupport.quote(text), personalSign(key, text)));
        assertEquals(200, v.status(), v.text());
        assertEquals(key.getAddress().toLowerCase(), v.json().path("address").asText());
        return v.json().path("wallet_token").asText();
    }

    static BigInteger units(long micro) {
        return BigInteger.valueOf(micro);
    }
}
