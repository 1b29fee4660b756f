package io.earnidle.backend.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.earnidle.backend.payouts.WithdrawTypedData;
import io.earnidle.backend.wallets.EthSignatures;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The EIP-712 typed-data parser and encoder on any JSON: it hashes to 32 bytes and recovers a signer (or refuses the
 * signature), or refuses the document with {@link IllegalArgumentException}; nothing else escapes (no stack
 * overflow on recursive types, no exception type the API would turn into a 500).
 */
class TypedDataFuzzTest {

    private static final long SEED = 0x712L;
    private static final int EXECUTIONS = 2_000;
    private static final String SIGNATURE = "0x" + "11".repeat(32) + "22".repeat(32) + "1b";

    static void hashesOrRefuses(byte[] input) {
        String json = new String(input, StandardCharsets.UTF_8);
        byte[] hash;
        try {
            hash = EthSignatures.typedDataHash(json);
        } catch (IllegalArgumentException refused) {
            return;
        }
        if (hash.length != 32) {
            throw new AssertionError("an EIP-712 digest has 32 bytes, got " + hash.length);
        }
        try {
            EthSignatures.recoverTypedDataAddress(json, SIGNATURE);
        } catch (IllegalArgumentException refused) {
            // a signature that recovers no key
        }
    }

    static List<byte[]> seeds() {
        String withdraw = WithdrawTypedData.of(8453, "0x" + "ab".repeat(20), "0x" + "cd".repeat(20), 1_500_000, 7,
                1_800_000_000L).toString();
        String nested = "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"}],"
                + "\"Mail\":[{\"name\":\"from\",\"type\":\"Person\"},{\"name\":\"tags\",\"type\":\"bytes32[2]\"},"
                + "{\"name\":\"n\",\"type\":\"int8[]\"}],\"Person\":[{\"name\":\"name\",\"type\":\"string\"},"
                + "{\"name\":\"ok\",\"type\":\"bool\"}]},\"primaryType\":\"Mail\",\"domain\":{\"name\":\"x\"},"
                + "\"message\":{\"from\":{\"name\":\"a\",\"ok\":true},\"tags\":[\"0x" + "00".repeat(32) + "\",\"0x"
                + "ff".repeat(32) + "\"],\"n\":[-128,127]}}";
        return List.of(withdraw.getBytes(StandardCharsets.UTF_8), nested.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fixedSeedShortRun() {
        SeededFuzzRun.run(SEED, EXECUTIONS, seeds(), 4096, TypedDataFuzzTest::hashesOrRefuses);
    }

    /** Coverage-guided: {@code JAZZER_FUZZ=1} (docs/security.md "Fuzzing"); otherwise replays the committed findings. */
    @FuzzTest(maxDuration = "10m")
    void typedData(byte[] input) {
        hashesOrRefuses(input);
    }
}
