package io.earnidle.node.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.tokenizer.Tokenizer;
import io.earnidle.testsupport.fuzz.SeededFuzzRun;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The GGUF reader on hostile files (a node loads model files it did not make): any bytes either read as a file whose
 * tensors lie inside it, or are refused with {@link GgufFormatException}; nothing else escapes, and nothing
 * allocates more than the file could hold. The tokenizer a file declares is built from it under the same contract.
 */
class GgufReaderFuzzTest {

    private static final long SEED = 0x6767_7566L;
    private static final int EXECUTIONS = 40_000;
    private static final int MAX_LENGTH = 1 << 16;

    static void readsOrRefuses(byte[] bytes) {
        GgufFile file;
        try {
            file = GgufFile.read(bytes);
        } catch (GgufFormatException refused) {
            return;
        }
        for (GgufTensorInfo t : file.tensors()) {
            if (t.offset() < 0 || t.offset() + t.byteSize() > bytes.length) {
                throw new AssertionError("tensor " + t.name() + " lies outside the file");
            }
            file.data(t);
        }
        file.metadata().forEach((key, value) -> value.toString());
        if (file.get("tokenizer.ggml.tokens") != null && file.get("tokenizer.ggml.model") != null) {
            try {
                Tokenizer tok = Tokenizer.fromGguf(file);
                for (int id = 0; id < Math.min(tok.vocabSize(), 64); id++) {
                    tok.tokenBytes(id);
                }
            } catch (GgufFormatException refused) {
                // a declared tokenizer this reader does not support, or metadata of the wrong type
            }
        }
    }

    static List<byte[]> seeds() {
        byte[] tiny = ModelSynthesizer.tinyBytes(1);
        return List.of(
                new GgufWriter().putString("general.architecture", "llama").putUInt32("general.alignment", 32)
                        .putStrings("strs", new String[] {"a", "Ġthe", "日本", ""}).putInt32s("ints", new int[] {1, -2})
                        .addF32("t.f32", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6})
                        .addF16("t.f16", new long[] {4}, new float[] {0.5f, -2f, 65504f, 1e-7f}).toBytes(),
                java.util.Arrays.copyOf(tiny, Math.min(tiny.length, MAX_LENGTH)),
                new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
    }

    @Test
    void fixedSeedShortRun() {
        SeededFuzzRun.run(SEED, EXECUTIONS, seeds(), MAX_LENGTH, GgufReaderFuzzTest::readsOrRefuses);
    }

    /** Coverage-guided: {@code JAZZER_FUZZ=1} (docs/security.md "Fuzzing"); otherwise replays the committed findings. */
    @FuzzTest(maxDuration = "10m")
    void ggufReader(byte[] bytes) {
        readsOrRefuses(bytes);
    }
}
