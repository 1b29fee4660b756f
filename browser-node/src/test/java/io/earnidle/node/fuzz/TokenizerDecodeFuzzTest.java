package io.earnidle.node.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.tokenizer.Tokenizer;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Tokenizer decode on any sequence of ids (a model's output is not trusted to be well formed): ids in the vocabulary
 * decode to well-formed text, equal to the UTF-8 of the tokens' bytes where those bytes are valid UTF-8; an id outside
 * it is refused with {@link IllegalArgumentException}; nothing else escapes.
 */
class TokenizerDecodeFuzzTest {

    private static final long SEED = 0x746f6bL;
    private static final int EXECUTIONS = 20_000;
    private static final Tokenizer TOKENIZER = Tokenizer.fromGguf(GgufFile.read(ModelSynthesizer.tinyBytes(1)));

    static void decodes(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        int[] ids = new int[input.length / 2];
        boolean outside = false;
        for (int i = 0; i < ids.length; i++) {
            int raw = in.getShort() & 0xffff;
            // mostly ids in the vocabulary, some just past it or negative
            ids[i] = raw >= 0xff00 ? TOKENIZER.vocabSize() + (raw & 0x7f) - 0x40 : raw % TOKENIZER.vocabSize();
            outside |= ids[i] < 0 || ids[i] >= TOKENIZER.vocabSize();
        }
        if (outside) {
            assertThrows(IllegalArgumentException.class, () -> TOKENIZER.decode(ids));
            return;
        }
        String text = TOKENIZER.decode(ids);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            bytes.writeBytes(TOKENIZER.tokenBytes(id));
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && (i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(++i)))
                    || Character.isLowSurrogate(c)) {
                throw new AssertionError("unpaired surrogate at " + i + " in decoded text");
            }
        }
        try {
            String strict = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
            assertEquals(strict, text, "valid UTF-8 decodes as the JDK decodes it");
        } catch (CharacterCodingException invalid) {
            // invalid bytes become U+FFFD; well-formedness is checked above
        }
    }

    @Test
    void fixedSeedShortRun() {
        SeededFuzzRun.run(SEED, EXECUTIONS, List.of(new byte[] {0, 1, 0, 2, 0, 3}, new byte[] {(byte) 0xff, 0x40},
                new byte[0]), 256, TokenizerDecodeFuzzTest::decodes);
    }

    /** Coverage-guided: {@code JAZZER_FUZZ=1} (docs/security.md "Fuzzing"); otherwise replays the committed findings. */
    @FuzzTest(maxDuration = "10m")
    void tokenizerDecode(byte[] input) {
        decodes(input);
    }
}
