package io.earnidle.node.cli;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.TokenizerFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class EarnIdleCliTest {
    record Run(int rc, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int rc = EarnIdleCli.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String s) {
        return (Map<String, Object>) Json.parse(s.trim());
    }

    @Test
    @SuppressWarnings("unchecked")
    void synthThenInferPrintsOneJsonObject(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.gguf");
        Run s = run("model", "synth", "--shape", "tiny", "--type", "q8_0", "--seed", "4", "--out", model.toString());
        assertEquals(0, s.rc(), s.err());
        assertEquals(model.toString(), json(s.out()).get("out"));
        GgufFile f = GgufFile.read(Files.readAllBytes(model));
        assertEquals(GgmlType.Q8_0, f.tensor("blk.0.attn_q.weight").type());

        Path logits = dir.resolve("logits.json");
        Run r = run("infer", "--model", model.toString(), "--prompt-ids", "300,70,101", "--engine", "jvm",
                "--max-tokens", "5", "--temperature", "0", "--seed", "1", "--logits-out", logits.toString(),
                "--threads", "2");
        assertEquals(0, r.rc(), r.err());
        assertEquals(1, r.out().trim().split("\n").length);
        Map<String, Object> o = json(r.out());
        assertEquals("jvm", o.get("engine"));
        assertEquals(model.toString(), o.get("model"));
        assertEquals(List.of(300.0, 70.0, 101.0), ((List<Object>) o.get("prompt_ids")).stream()
                .map(x -> ((Number) x).doubleValue()).toList());
        List<Object> ids = (List<Object>) o.get("ids");
        assertFalse(ids.isEmpty());
        for (String k : List.of("text", "prefill_ms", "decode_ms", "decode_tokens_per_s")) {
            assertTrue(o.containsKey(k), k);
        }
        // same ids as the library, greedy, no BOS added for --prompt-ids
        LlamaModel lm = LlamaModel.load(model);
        int[] expected = lm.generate(new GenerationRequest(null, new int[] {300, 70, 101}, false, 5,
                Sampling.greedy())).tokenIds();
        assertEquals(expected.length, ids.size());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], ((Number) ids.get(i)).intValue());
        }
        List<Object> l = (List<Object>) Json.parse(Files.readString(logits).trim());
        assertEquals(lm.vocabSize(), l.size());
        int best = 0;
        for (int i = 1; i < l.size(); i++) {
            if (((Number) l.get(i)).doubleValue() > ((Number) l.get(best)).doubleValue()) {
                best = i;
            }
        }
        assertEquals(expected[0], best, "first generated greedy token is the argmax of the written logits");

        Run p = run("infer", "--model", model.toString(), "--prompt", "the world", "--max-tokens", "3");
        assertEquals(0, p.rc(), p.err());
        assertEquals(lm.tokenizer().bosId(), ((Number) ((List<Object>) json(p.out()).get("prompt_ids")).get(0)).intValue());
    }

    @Test
    void badArgumentsGiveClearErrors(@TempDir Path dir) {
        Run a = run("infer", "--model", "x.gguf");
        assertEquals(2, a.rc());
        assertTrue(a.err().contains("exactly one of --prompt and --prompt-ids"), a.err());
        Run b = run("infer", "--engine", "cuda", "--model", "x.gguf", "--prompt", "hi");
        assertEquals(2, b.rc());
        assertTrue(b.err().contains("unknown engine 'cuda'"), b.err());
        Run c = run("model", "synth", "--shape", "huge", "--type", "f32", "--seed", "1", "--out", "x");
        assertEquals(2, c.rc());
        assertTrue(c.err().contains("unknown shape 'huge'"), c.err());
        Run d = run("infer", "--model", "x.gguf", "--prompt-ids", "1,a");
        assertEquals(2, d.rc());
        assertTrue(d.err().contains("'a' is not an integer"), d.err());
        Run e = run("infer", "--model", dir.resolve("missing.gguf").toString(), "--prompt", "hi");
        assertEquals(1, e.rc());
        assertTrue(e.err().contains("does not exist"), e.err());
        Run f = run("model", "synth", "--shape", "tiny", "--type", "q3_k", "--seed", "1", "--out", "x");
        assertEquals(2, f.rc());
        assertTrue(f.err().contains("unknown type"), f.err());
        Run g = run("frobnicate");
        assertEquals(2, g.rc());
        Run h = run("infer", "--model", "x", "--prompt", "a", "--max-tokens", "0");
        assertEquals(2, h.rc());
        assertTrue(h.err().contains("--max-tokens 0 out of range"), h.err());
    }

    @Test
    void tokenizerFilesAreReadAndEmbedded(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("tok");
        Files.createDirectories(t);
        StringBuilder tokens = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            tokens.append(b == '\\' ? "\\\\" : String.valueOf(io.earnidle.node.tokenizer.ByteLevel.byteToChar(b))).append('\n');
        }
        tokens.append("Ġt\n").append("he\n").append("<|begin_of_text|>\n").append("<|end_of_text|>\n").append("<|eot_id|>\n");
        Files.writeString(t.resolve("tokens.txt"), tokens);
        Files.writeString(t.resolve("merges.txt"), "Ġ t\nh e\n");
        Files.writeString(t.resolve("specials.tsv"), "258\t<|begin_of_text|>\t3\n259\t<|end_of_text|>\t3\n260\t<|eot_id|>\t3\n");
        Files.writeString(t.resolve("meta.txt"), "bos_token=<|begin_of_text|>\nbos_token_id=258\neos_token_id=259\n");
        Files.writeString(t.resolve("chat_template.jinja"), "{{ bos_token }}{% for m in messages %}{{ m }}{% endfor %}");
        TokenizerFiles tf = TokenizerFiles.read(t);
        assertEquals(261, tf.tokens().length);
        assertEquals("\\", tf.tokens()['\\']);
        assertEquals(3, tf.types()[260]);
        assertEquals(1, tf.types()[257]);
        Path model = dir.resolve("m.gguf");
        Run s = run("model", "synth", "--shape", "tiny", "--type", "f16", "--seed", "2", "--tokenizer", t.toString(),
                "--out", model.toString());
        assertEquals(0, s.rc(), s.err());
        LlamaModel lm = LlamaModel.load(model);
        assertEquals(261, lm.vocabSize());
        assertEquals(258, lm.tokenizer().bosId());
        assertArrayEquals(new int[] {258, 256, 257}, lm.tokenizer().encode(" the", true));
        GgufFile f = GgufFile.read(Files.readAllBytes(model));
        assertEquals("{{ bos_token }}{% for m in messages %}{{ m }}{% endfor %}", f.getString("tokenizer.chat_template"));
        // a shape with a fixed vocabulary refuses a tokenizer of another size
        Run bad = run("model", "synth", "--shape", "llama-3.2-1b", "--type", "q4_k_m", "--seed", "2", "--tokenizer",
                t.toString(), "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("128256"), bad.err());
        Files.writeString(t.resolve("merges.txt"), "Ġt\n");
        Run badMerges = run("model", "synth", "--shape", "tiny", "--type", "f16", "--seed", "2", "--tokenizer",
                t.toString(), "--out", dir.resolve("y.gguf").toString());
        assertEquals(1, badMerges.rc());
        assertTrue(badMerges.err().contains("merges.txt line 1"), badMerges.err());
    }

    @Test
    void threadedOpsGiveBitIdenticalResults(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.gguf");
        // rows of 256/512 values: big enough that ThreadedTensorOps really splits the mat-vecs
        io.earnidle.node.synth.ModelSynthesizer.write(model, new io.earnidle.node.synth.SynthShape("t", 256, 512, 2,
                4, 2, 0, 64, 500000f, true, true), io.earnidle.node.synth.SynthFileType.Q4_K_M, 8, null);
        GenerationRequest req = new GenerationRequest("the world is", null, true, 8, new Sampling(0.8f, 20, 0.9f, 5));
        int[] one = LlamaModel.load(model).generate(req).tokenIds();
        try (ThreadedTensorOps ops = new ThreadedTensorOps(3)) {
            assertArrayEquals(one, LlamaModel.load(model, ops).generate(req).tokenIds());
        }
    }

    @Test
    void synthShapeOverridesForOracleModels(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("k.gguf");
        Run s = run("model", "synth", "--shape", "tiny-k", "--type", "q4_k_m", "--seed", "3", "--heads", "8",
                "--kv-heads", "1", "--tied", "true", "--llama3-rope", "true", "--context", "128", "--out", model.toString());
        assertEquals(0, s.rc(), s.err());
        GgufFile f = GgufFile.read(Files.readAllBytes(model));
        assertEquals(8, f.getInt("llama.attention.head_count"));
        assertEquals(1, f.getInt("llama.attention.head_count_kv"));
        assertEquals(128, f.getInt("llama.context_length"));
        assertNull(f.tensor("output.weight"));
        assertNotNull(f.tensor("rope_freqs.weight"));
        assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type());   // tied: the output matrix
        assertEquals(GgmlType.Q4_K, f.tensor("blk.0.attn_q.weight").type());
        assertEquals(GgmlType.Q4_K, f.tensor("blk.0.ffn_down.weight").type());
        assertEquals(GgmlType.Q6_K, f.tensor("blk.1.ffn_down.weight").type()); // last eighth of the layers
        Run r = run("infer", "--model", model.toString(), "--prompt", "hello", "--max-tokens", "4");
        assertEquals(0, r.rc(), r.err());
        Run bad = run("model", "synth", "--shape", "tiny-k", "--type", "f32", "--seed", "3", "--heads", "3",
                "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("inconsistent sizes"), bad.err());
    }
}
