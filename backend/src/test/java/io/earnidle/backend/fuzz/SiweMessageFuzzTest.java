package io.earnidle.backend.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.backend.wallets.SiweMessage;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SIWE parser on any text a client signs in with: it either parses a message that formats back to the same text
 * and parses again to the same fields, or refuses with {@link IllegalArgumentException}; nothing else escapes.
 */
class SiweMessageFuzzTest {

    private static final long SEED = 0x5157_45L;
    private static final int EXECUTIONS = 30_000;

    static void parsesOrRefuses(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        SiweMessage message;
        try {
            message = SiweMessage.parse(text);
        } catch (IllegalArgumentException refused) {
            return;
        }
        assertEquals(message, SiweMessage.parse(message.format()), "a parsed message formats to one that parses back");
    }

    static List<byte[]> seeds() {
        String address = EthSignatures.checksum("0x" + "ab12".repeat(10));
        String full = "https://example.com wants you to sign in with your Ethereum account:\n" + address + "\n\n"
                + "Sign in to Earn Idle.\n\nURI: https://example.com/portal/\nVersion: 1\nChain ID: 8453\n"
                + "Nonce: abcdef0123456789\nIssued At: 2026-01-02T03:04:05Z\nExpiration Time: 2026-01-02T04:04:05.5Z\n"
                + "Not Before: 2026-01-02T03:00:00+01:00\nRequest ID: r-1\nResources:\n- https://example.com/a\n- ipfs://b";
        String minimal = "example.com:8443 wants you to sign in with your Ethereum account:\n" + address + "\n\n"
                + "URI: https://example.com:8443\nVersion: 1\nChain ID: 1\nNonce: 12345678\n"
                + "Issued At: 2026-01-02T03:04:05Z";
        return List.of(full.getBytes(StandardCharsets.UTF_8), minimal.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fixedSeedShortRun() {
        SeededFuzzRun.run(SEED, EXECUTIONS, seeds(), 4200, SiweMessageFuzzTest::parsesOrRefuses);
    }

    /** Coverage-guided: {@code JAZZER_FUZZ=1} (docs/security.md "Fuzzing"); otherwise replays the committed findings. */
    @FuzzTest(maxDuration = "10m")
    void siweMessage(byte[] input) {
        parsesOrRefuses(input);
    }
}
