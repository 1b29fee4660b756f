package io.earnidle.backend.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.receipts.Jcs;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The receipts' canonical JSON (RFC 8785) on any JSON document: it either refuses the value with
 * {@link IllegalArgumentException} (numbers no double holds exactly, lone surrogates), or gives canonical bytes that
 * are well-formed UTF-8 of its text, parse back as JSON, and canonicalize to themselves, so two different values never
 * share the bytes a receipt signature covers.
 */
class JcsFuzzTest {

    private static final long SEED = 0x4a4353L;
    private static final int EXECUTIONS = 30_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    static void canonicalOrRefused(byte[] input) throws Exception {
        JsonNode value;
        try {
            value = JSON.readTree(input);
        } catch (IOException notJson) {
            return; // as the API's body reader (http/Json) refuses it: not JSON, or not in a Unicode encoding
        }
        if (value == null || value.isMissingNode()) {
            return;
        }
        String text;
        try {
            text = Jcs.text(value);
        } catch (IllegalArgumentException refused) {
            return;
        }
        byte[] bytes = Jcs.bytes(value);
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("canonical bytes are not UTF-8: " + e);
        }
        assertEquals(text, decoded, "the canonical bytes are the UTF-8 of the canonical text, nothing replaced");
        assertEquals(text, Jcs.text(JSON.readTree(bytes)), "canonical JSON is its own canonical form");
    }

    static List<byte[]> seeds() {
        return List.of(
                "{\"b\":[1,2.5,-0.0,1e21,1e-7,\"x\\u0001\\ud83d\\ude00\"],\"a\":{\"\\u20ac\":true,\"z\":null}}",
                "[9007199254740992,123456789012345678901234567890,5e-324,1.7976931348623157e308]",
                "{\"receipt\":{\"job\":\"j-1\",\"amount_micro_usdc\":1500,\"tokens\":42,\"prev\":\"00ff\"}}",
                "\"\\ud800\"", "[0.1,100,1E+2,-1.5e-10,333333333.33333329]").stream()
                .map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    }

    @Test
    void fixedSeedShortRun() {
        SeededFuzzRun.run(SEED, EXECUTIONS, seeds(), 2048, JcsFuzzTest::canonicalOrRefused);
    }

    /** Coverage-guided: {@code JAZZER_FUZZ=1} (docs/security.md "Fuzzing"); otherwise replays the committed findings. */
    @FuzzTest(maxDuration = "10m")
    void jcs(byte[] input) throws Exception {
        canonicalOrRefused(input);
    }
}
