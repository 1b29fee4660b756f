package io.earnidle.backend.receipts;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;

import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worked example of docs/receipts.md, signed with the key of RFC 8032's test 1: the same kid, canonical text,
 * hash and signature as the document shows (and as the verify page computes in the browser).
 */
class ReceiptKeysTest {
    static final String SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static final String EXAMPLE = """
            {"v":1,"id":"rcpt_0f6c3d2a9b8e47d1a5c4b3e2d1f0a9b8","kind":"result",
             "job_id":"job_5b1e0c9d8a7f46e3b2c1d0e9f8a7b6c5","refers_to":null,
             "node":{"session_id":"ns_3c2b1a09f8e7d6c5b4a3928170f6e5d4","wallet":null},
             "model":{"id":"synthetic-tiny-f32",
                      "gguf_sha256":"b5c532522c63c7b4a47758d9d811f5b1e3643d189c3a6a5427b3f11dc169c04e"},
             "prompt":{"of":"text","sha256":"9ecb36561341d18eb65484e833efea61edc74b84cf5e6ae1b81c63533e25fc8f",
                       "tokens":null},
             "output":{"token_ids_sha256":"a615eeaee21de5179de080de8c3052c8da901138406ba71c38c032845f7d54f4",
                       "tokens":3},
             "timing":{"engine":"wasm-simd","prefill_ms":12.5,"decode_ms":40.0},
             "price":{"total_micro_usdc":560,"node_micro_usdc":403,"publisher_micro_usdc":101,
                      "platform_micro_usdc":56},
             "verification":{"status":"pending","method":null},"reversal":null,
             "issued_at":"2026-12-06T12:00:00.123Z","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","prev":null}""";

    @Test
    void theWorkedExampleOfTheDocs() {
        ReceiptKeys.SigningKey key = ReceiptKeys.fromSeed(HexFormat.of().parseHex(SEED));
        // RFC 8032 test 1 public key d75a9801...f707511a, base64url
        assertEquals("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", key.x());
        assertEquals("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", key.kid());
        byte[] canonical = Jcs.bytes(Json.parse(EXAMPLE));
        assertTrue(new String(canonical, StandardCharsets.UTF_8).startsWith(
                "{\"id\":\"rcpt_0f6c3d2a9b8e47d1a5c4b3e2d1f0a9b8\",\"issued_at\":"));
        assertTrue(new String(canonical, StandardCharsets.UTF_8).contains(
                "\"timing\":{\"decode_ms\":40,\"engine\":\"wasm-simd\",\"prefill_ms\":12.5}"));
        assertEquals("4fc1e52979b8ca53aeca2c32f4ebe1ed79eef981ca9abb18ab92bccf22a8dce5", Ids.sha256Hex(canonical));
        byte[] signature = ReceiptKeys.sign(key, canonical);
        assertEquals("3PJ1_pPa0P7Jp8-J5UL6TLbucbx1W7sBtsclZYvi27coPoFt78B5kOluwKa4Bpwcqce4mjjXSD-UDgyffFkuAA",
                ReceiptKeys.base64url(signature));
        assertTrue(ReceiptKeys.verify(key.x(), canonical, signature));
    }

    @Test
    void aConfiguredKeyFileIsABase64urlSeedOrAPkcs8Pem(@TempDir Path dir) throws Exception {
        byte[] seed = HexFormat.of().parseHex(SEED);
        Path raw = Files.writeString(dir.resolve("raw.key"), Base64.getUrlEncoder().withoutPadding()
                .encodeToString(seed) + "\n");
        byte[] der = HexFormat.of().parseHex("302e020100300506032b657004220420" + SEED);
        Path pem = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(der) + "\n-----END PRIVATE KEY-----\n");
        assertArrayEquals(seed, ReceiptKeys.read(raw));
        assertArrayEquals(seed, ReceiptKeys.read(pem));
    }
}
