package io.earnidle.node.llama;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.gguf.GgufValue;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The forward pass on a quantized model (weights read in place, dequantized row by row) equals the forward pass on
 * the same model with every tensor dequantized and stored as F32.
 */
class QuantizedModelTest {
    /** Rows of 256 and 512 values so every tensor can use the 256-value K-quant super-blocks. */
    static final SynthShape SHAPE = new SynthShape("test-256", 256, 512, 2, 4, 2, 0, 64, 500000f, false, false);

    /** The same model with every tensor stored as F32 (values = the dequantized values of {@code gguf}). */
    static byte[] dequantizedTwin(byte[] gguf) {
        GgufFile f = GgufFile.read(gguf);
        GgufWriter w = new GgufWriter();
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            w.put(e.getKey(), e.getValue());
        }
        for (GgufTensorInfo t : f.tensors()) {
            w.addF32(t.name(), t.ne(), f.readFloats(t));
        }
        return w.toBytes();
    }

    static float[] lastLogits(LlamaModel m, int[] ids) {
        LlamaModel.State st = m.new State(ids.length);
        float[] logits = null;
        for (int i = 0; i < ids.length; i++) {
            logits = m.forward(st, ids[i], i, i == ids.length - 1);
        }
        return logits.clone();
    }

    @ParameterizedTest
    @EnumSource(SynthFileType.class)
    void quantizedForwardEqualsDequantizedF32Forward(SynthFileType type, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        ModelSynthesizer.write(file, SHAPE, type, 5, null);
        byte[] q = Files.readAllBytes(file);
        GgufFile f = GgufFile.read(q);
        Set<GgmlType> types = new HashSet<>();
        for (GgufTensorInfo t : f.tensors()) {
            types.add(t.type());
        }
        if (type == SynthFileType.Q4_K_M) {
            assertEquals(Set.of(GgmlType.F32, GgmlType.Q4_K, GgmlType.Q6_K), types);
        } else {
            Set<GgmlType> expected = new HashSet<>(Set.of(GgmlType.F32));
            expected.add(GgmlType.valueOf(type.name()));
            assertEquals(expected, types, "tensor types of a " + type + " file");
        }
        LlamaModel qm = LlamaModel.load(ByteBuffer.wrap(q));
        LlamaModel fm = LlamaModel.load(ByteBuffer.wrap(dequantizedTwin(q)));
        int[] ids = qm.tokenizer().encode("Hello world, the cat is on the mat!", true);
        float[] a = lastLogits(qm, ids);
        float[] b = lastLogits(fm, ids);
        double maxAbs = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(a[i]));
            assertEquals(b[i], a[i], 1e-5f * Math.max(1f, Math.abs(b[i])), "logit " + i);
            maxAbs = Math.max(maxAbs, Math.abs(a[i]));
        }
        assertTrue(maxAbs > 0.1, "degenerate logits");
        // by construction (same dequantized floats, same accumulation order) the results are bit-identical
        assertArrayEquals(b, a);
        GenerationRequest req = new GenerationRequest("the world", null, true, 6, Sampling.greedy());
        assertArrayEquals(fm.generate(req).tokenIds(), qm.generate(req).tokenIds());
    }

    @org.junit.jupiter.api.Test
    void perTensorMappingForLargeFilesGivesTheSameModel(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        ModelSynthesizer.write(file, SHAPE.withTied(true).withLlama3Rope(true), SynthFileType.Q4_K_M, 6, null);
        LlamaModel whole = LlamaModel.load(file);
        // a limit of 0 bytes forces the path used for files over 2 GiB: header and each tensor mapped separately
        LlamaModel split = LlamaModel.load(file, new io.earnidle.node.llama.ops.JavaTensorOps(), 0);
        int[] ids = whole.tokenizer().encode("per tensor mapping", true);
        assertArrayEquals(lastLogits(whole, ids), lastLogits(split, ids));
        // a truncated file is still rejected with a clear error on that path
        Path cut = dir.resolve("cut.gguf");
        byte[] all = Files.readAllBytes(file);
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 100));
        Exception e = assertThrows(io.earnidle.node.gguf.GgufFormatException.class,
                () -> LlamaModel.load(cut, new io.earnidle.node.llama.ops.JavaTensorOps(), 0));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(SynthFileType.class)
    void synthesisIsDeterministic(SynthFileType type, @TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        ModelSynthesizer.write(a, SynthShape.TINY, type, 9, null);
        ModelSynthesizer.write(b, SynthShape.TINY, type, 9, null);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        Path c = dir.resolve("c.gguf");
        ModelSynthesizer.write(c, SynthShape.TINY, type, 10, null);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
        // loads and generates
        LlamaModel m = LlamaModel.load(a);
        assertEquals(3, m.generate(new GenerationRequest("hi", null, true, 3, Sampling.greedy())).tokenIds().length);
    }
}
