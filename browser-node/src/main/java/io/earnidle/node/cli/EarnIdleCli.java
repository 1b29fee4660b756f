package io.earnidle.node.cli;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import io.earnidle.node.synth.TokenizerFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JVM command line: {@code model synth ...} and {@code infer ...} (see {@link #USAGE}). Exit status 0 on success,
 * 2 for bad arguments, 1 for any other failure; errors go to stderr as one line starting with "earnidle: ".
 */
public final class EarnIdleCli {
    static final String USAGE = """
            usage:
              model synth --shape tiny|tiny-k|llama-3.2-1b --type f32|f16|bf16|q8_0|q4_0|q4_1|q4_k_m|q6_k --seed N
                          --out FILE.gguf [--tokenizer DIR] [--context N] [--tied true|false] [--llama3-rope true|false]
                          [--dim N] [--ffn N] [--layers N] [--heads N] [--kv-heads N]
              infer --model FILE (--prompt TEXT | --prompt-ids 1,2,3) [--engine jvm|wasm|webgpu] [--max-tokens N]
                    [--temperature T] [--seed S] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R]
                    [--repeat-last-n N] [--stop TEXT]... [--logits-out FILE] [--threads K]
            """;

    /** A bad command line (exit status 2). */
    static final class UsageException extends RuntimeException {
        UsageException(String m) {
            super(m);
        }
    }

    private EarnIdleCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length >= 2 && args[0].equals("model") && args[1].equals("synth")) {
                synth(parse(args, 2, Set.of("shape", "type", "seed", "out", "tokenizer", "context", "tied",
                        "llama3-rope", "dim", "ffn", "layers", "heads", "kv-heads"), Set.of()), out);
            } else if (args.length >= 1 && args[0].equals("infer")) {
                infer(parse(args, 1, Set.of("model", "prompt", "prompt-ids", "engine", "max-tokens", "temperature",
                        "seed", "top-k", "top-p", "min-p", "repeat-penalty", "repeat-last-n", "logits-out",
                        "threads"), Set.of("stop")), out);
            } else if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
                out.print(USAGE);
            } else {
                throw new UsageException("unknown command '" + String.join(" ", args) + "'");
            }
            return 0;
        } catch (UsageException e) {
            err.println("earnidle: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (IOException | RuntimeException e) {
            err.println("earnidle: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    /** --key value options; keys in {@code multi} may repeat (values joined in a list under the key). */
    static Map<String, List<String>> parse(String[] args, int from, Set<String> single, Set<String> multi) {
        Map<String, List<String>> m = new HashMap<>();
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String key = a.substring(2);
            if (!single.contains(key) && !multi.contains(key)) {
                throw new UsageException("unknown option --" + key);
            }
            if (i + 1 >= args.length) {
                throw new UsageException("option --" + key + " needs a value");
            }
            List<String> vs = m.computeIfAbsent(key, k -> new ArrayList<>());
            if (!vs.isEmpty() && !multi.contains(key)) {
                throw new UsageException("option --" + key + " given twice");
            }
            vs.add(args[++i]);
        }
        return m;
    }

    private static String opt(Map<String, List<String>> m, String key) {
        List<String> v = m.get(key);
        return v == null ? null : v.get(0);
    }

    private static String req(Map<String, List<String>> m, String key) {
        String v = opt(m, key);
        if (v == null) {
            throw new UsageException("missing --" + key);
        }
        return v;
    }

    private static long longOpt(Map<String, List<String>> m, String key, long dflt, long min, long max) {
        String v = opt(m, key);
        if (v == null) {
            return dflt;
        }
        try {
            long x = Long.parseLong(v.trim());
            if (x < min || x > max) {
                throw new UsageException("--" + key + " " + x + " out of range [" + min + ", " + max + "]");
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " '" + v + "' is not an integer");
        }
    }

    private static float floatOpt(Map<String, List<String>> m, String key, float dflt, float min, float max) {
        String v = opt(m, key);
        if (v == null) {
            return dflt;
        }
        try {
            float x = Float.parseFloat(v.trim());
            if (!(x >= min && x <= max)) {
                throw new UsageException("--" + key + " " + v + " out of range [" + min + ", " + max + "]");
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " '" + v + "' is not a number");
        }
    }

    static void synth(Map<String, List<String>> m, PrintStream out) throws IOException {
        SynthShape shape;
        SynthFileType type;
        try {
            shape = SynthShape.named(req(m, "shape"));
            type = SynthFileType.named(req(m, "type"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        long seed = longOpt(m, "seed", Long.MIN_VALUE, Long.MIN_VALUE, Long.MAX_VALUE);
        if (seed == Long.MIN_VALUE && opt(m, "seed") == null) {
            throw new UsageException("missing --seed");
        }
        Path file = Path.of(req(m, "out"));
        if (opt(m, "context") != null) {
            shape = shape.withContext((int) longOpt(m, "context", 0, 1, Integer.MAX_VALUE));
        }
        String tied = opt(m, "tied");
        if (tied != null) {
            shape = shape.withTied(bool(tied, "tied"));
        }
        String rope = opt(m, "llama3-rope");
        if (rope != null) {
            shape = shape.withLlama3Rope(bool(rope, "llama3-rope"));
        }
        try {
            shape = shape.withSizes((int) longOpt(m, "dim", shape.dim(), 2, 1 << 16),
                    (int) longOpt(m, "ffn", shape.hidden(), 1, 1 << 18),
                    (int) longOpt(m, "layers", shape.layers(), 1, 1024),
                    (int) longOpt(m, "heads", shape.heads(), 1, 1024),
                    (int) longOpt(m, "kv-heads", shape.kvHeads(), 1, 1024));
        } catch (IllegalArgumentException e) {
            throw new UsageException("inconsistent sizes: dim must be a multiple of heads (with an even head size) "
                    + "and heads a multiple of kv-heads");
        }
        TokenizerFiles tok = opt(m, "tokenizer") == null ? null : TokenizerFiles.read(Path.of(opt(m, "tokenizer")));
        if (tok != null && shape.vocab() != 0 && shape.vocab() != tok.tokens().length) {
            throw new UsageException("shape " + shape.name() + " needs " + shape.vocab() + " tokens, the tokenizer has "
                    + tok.tokens().length);
        }
        long t0 = System.nanoTime();
        ModelSynthesizer.write(file, shape, type, seed, tok);
        double ms = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("out", file.toString());
        o.put("shape", shape.name());
        o.put("type", type.name().toLowerCase());
        o.put("seed", seed);
        o.put("bytes", Files.size(file));
        o.put("tokenizer", tok == null ? "synthetic" : opt(m, "tokenizer"));
        o.put("ms", Math.round(ms));
        out.println(Json.write(o));
    }

    private static boolean bool(String v, String key) {
        if (!v.equals("true") && !v.equals("false")) {
            throw new UsageException("--" + key + " must be true or false");
        }
        return v.equals("true");
    }

    static void infer(Map<String, List<String>> m, PrintStream out) throws IOException {
        String engine = opt(m, "engine") == null ? "jvm" : opt(m, "engine");
        if (!engine.equals("jvm") && !engine.equals("wasm") && !engine.equals("webgpu")) {
            throw new UsageException("unknown engine '" + engine + "' (jvm, wasm, webgpu)");
        }
        Path model = Path.of(req(m, "model"));
        String prompt = opt(m, "prompt");
        String idsText = opt(m, "prompt-ids");
        if ((prompt == null) == (idsText == null)) {
            throw new UsageException("give exactly one of --prompt and --prompt-ids");
        }
        int[] promptIds = null;
        if (idsText != null) {
            String[] parts = idsText.split(",", -1);
            promptIds = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    promptIds[i] = Integer.parseInt(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw new UsageException("--prompt-ids: '" + parts[i] + "' is not an integer");
                }
            }
        }
        int maxTokens = (int) longOpt(m, "max-tokens", 16, 1, 1 << 20);
        float temperature = floatOpt(m, "temperature", 0f, 0f, 100f);
        long seed = longOpt(m, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        int topK = (int) longOpt(m, "top-k", 0, 0, Integer.MAX_VALUE);
        float topP = floatOpt(m, "top-p", 1f, Float.MIN_VALUE, 1f);
        float minP = floatOpt(m, "min-p", 0f, 0f, 1f);
        float penalty = floatOpt(m, "repeat-penalty", 1f, Float.MIN_VALUE, 100f);
        int lastN = (int) longOpt(m, "repeat-last-n", Sampling.DEFAULT_REPEAT_LAST_N, 0, Integer.MAX_VALUE);
        int threads = (int) longOpt(m, "threads", Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 1024);
        List<String> stop = m.getOrDefault("stop", List.of());
        Sampling sampling = new Sampling(temperature, topK, topP, seed, minP, penalty, lastN, stop);
        if (!Files.isRegularFile(model)) {
            throw new IOException("model file " + model + " does not exist");
        }
        if (!engine.equals("jvm")) {
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("engine", engine);
            if (prompt != null) {
                req.put("prompt", prompt);
            } else {
                req.put("prompt_ids", promptIds);
            }
            req.put("max_tokens", maxTokens);
            req.put("temperature", (double) temperature);
            req.put("seed", seed);
            req.put("top_k", topK);
            req.put("top_p", (double) topP);
            req.put("min_p", (double) minP);
            req.put("repeat_penalty", (double) penalty);
            req.put("repeat_last_n", lastN);
            req.put("stop", stop);
            req.put("logits", opt(m, "logits-out") != null);
            if (opt(m, "threads") != null) {
                req.put("threads", threads);
            }
            browserInfer(model, req, opt(m, "logits-out"), out);
            return;
        }
        try (ThreadedTensorOps ops = new ThreadedTensorOps(threads)) {
            LlamaModel lm = LlamaModel.load(model, ops);
            GenerationRequest req = new GenerationRequest(prompt, promptIds, prompt != null, maxTokens, sampling);
            int[] usedPrompt = lm.promptIds(req);
            float[][] first = new float[1][];
            GenerationResult r = lm.generate(req, l -> first[0] = l);
            String logitsOut = opt(m, "logits-out");
            if (logitsOut != null) {
                StringBuilder sb = new StringBuilder(first[0].length * 12);
                sb.append('[');
                for (int i = 0; i < first[0].length; i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    float v = first[0][i];
                    sb.append(Float.isFinite(v) ? Float.toString(v) : "null");
                }
                sb.append("]\n");
                Files.writeString(Path.of(logitsOut), sb, StandardCharsets.UTF_8);
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("engine", "jvm");
            o.put("model", model.toString());
            o.put("prompt_ids", usedPrompt);
            o.put("ids", r.tokenIds());
            o.put("text", r.text());
            o.put("prefill_ms", round3(r.prefillMs()));
            o.put("decode_ms", round3(r.decodeMs()));
            // the first generated token comes from the prefill's logits; decode runs one forward pass per later token
            int decoded = r.tokenIds().length - 1;
            o.put("decode_tokens_per_s", decoded > 0 && r.decodeMs() > 0 ? round3(decoded * 1000.0 / r.decodeMs()) : 0.0);
            o.put("threads", threads);
            out.println(Json.write(o));
        }
    }

    /** wasm / webgpu: runs the request in headless Chromium and prints the same JSON as the jvm engine + counters. */
    static void browserInfer(Path model, Map<String, Object> req, String logitsOut, PrintStream out) throws IOException {
        long timeout = Long.getLong("earnidle.browser.timeout.s", 900);
        Map<String, Object> r = Json.obj(Json.parse(BrowserInfer.run(model, Json.write(req), timeout)), "result");
        if (r.get("error") != null) {
            throw new IOException("browser engine: " + r.get("error"));
        }
        Object logits = r.remove("logits");
        if (logitsOut != null) {
            if (!(logits instanceof List<?> l)) {
                throw new IOException("the browser engine returned no logits");
            }
            StringBuilder sb = new StringBuilder(l.size() * 12).append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                Object v = l.get(i);
                sb.append(v == null ? "null" : Float.toString((float) (double) (Double) v));
            }
            Files.writeString(Path.of(logitsOut), sb.append("]\n"), StandardCharsets.UTF_8);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("engine", r.remove("engine"));
        o.put("model", model.toString());
        o.putAll(r);
        out.println(Json.write(o));
    }

    private static double round3(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }
}
