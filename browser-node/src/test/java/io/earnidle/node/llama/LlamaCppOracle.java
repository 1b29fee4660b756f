package io.earnidle.node.llama;

import io.earnidle.node.NodeScripts;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * llama.cpp as the oracle of the agreement tests ({@link LlamaCppAgreementTest} for the JVM engine,
 * {@code BrowserLlamaCppAgreementTest} for the browser engines): the 32 synthesized models (every tensor type x four
 * head/KV-head, tied/untied and llama3-RoPE variants), their seeded prompts, and llama.cpp's first-step logits,
 * greedy ids and top-2 gaps from {@code src/test/node/llama-ref.mjs --jobs} (node-llama-cpp's CPU build, one node
 * process for all models), under each of llama.cpp's CPU variants that loads on this machine
 * ({@link #variantsUnderTest()}): ggml ships one CPU backend per x86 level and picks the best the CPU has, and their
 * kernels differ (docs/engine.md, "llama.cpp's CPU variants").
 */
public final class LlamaCppOracle {
    /** Where the models are synthesized (shared by every test of the module: one JVM runs them all). */
    public static final Path WORK = moduleDir().resolve("target/llama-cpp-oracle");

    /** Greedy steps llama.cpp takes after each prompt. */
    public static final int GREEDY = 16;

    static final Path NODE_DIR = NodeScripts.DIR;

    /** The four attention/output/RoPE variants every type is run with. */
    private static final int[][] VARIANTS = {
        // heads, kv heads, tied, llama3 rope
        {4, 4, 0, 0},
        {4, 2, 1, 1},
        {8, 2, 0, 1},
        {8, 1, 1, 0},
    };

    private LlamaCppOracle() {
    }

    public record Case(SynthFileType type, int heads, int kvHeads, boolean tied, boolean rope, long seed) {
        public String file() {
            return type.name().toLowerCase() + "-h" + heads + "kv" + kvHeads + (tied ? "-tied" : "-untied")
                    + (rope ? "-rope" : "") + ".gguf";
        }

        @Override
        public String toString() {
            return type.name().toLowerCase() + " heads " + heads + "/" + kvHeads + (tied ? " tied" : " untied")
                    + (rope ? " llama3-rope" : "");
        }
    }

    /** llama.cpp's answer for one model: first-step logits, greedy ids and the top-2 gap of each greedy step. */
    public record Reference(float[] logits, int[] greedy, float[] gaps) {
    }

    /** A synthesized model file, its prompt and llama.cpp's answer. */
    public record Oracle(Case c, Path model, int[] prompt, Reference ref) {
    }

    static Path moduleDir() {
        String base = System.getProperty("basedir");
        return base != null ? Path.of(base) : Path.of("").toAbsolutePath();
    }

    /** All 32 cases: 8 file types x 4 variants, each with its own seed. */
    public static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        long seed = 1000;
        for (SynthFileType t : SynthFileType.values()) {
            for (int[] v : VARIANTS) {
                out.add(new Case(t, v[0], v[1], v[2] == 1, v[3] == 1, seed++));
            }
        }
        return out;
    }

    /** dim 256 and FFN 512: every matrix row fits the 256-value K-quant super-blocks (no fallback types). */
    public static SynthShape shape(Case c) {
        return new SynthShape("agreement", 256, 512, 2, c.heads(), c.kvHeads(), 0, 64, 500000f, c.rope(), c.tied());
    }

    /** The seeded prompt of {@code c}: 8 to 16 ids drawn from the whole vocabulary. */
    public static int[] prompt(Case c) {
        int vocab = ModelSynthesizer.vocabulary().length;
        SplitMix64 rng = new SplitMix64(c.seed() * 31 + 7);
        int[] prompt = new int[8 + (int) (c.seed() % 9)];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (int) (rng.nextDouble() * vocab);
        }
        return prompt;
    }

    /** The ggml CPU variants of the prebuilt llama.cpp: the one ggml picks on this CPU and all that load here. */
    public record CpuVariants(String defaultVariant, List<String> loadable, List<String> unavailable) {
    }

    private static CpuVariants cpuVariants;

    /** Model files this JVM has written (a later run with another CPU variant reuses them). */
    private static final java.util.Set<Path> SYNTHESIZED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Probes which of llama.cpp's CPU variants ({@code libggml-cpu-*.so}: x64, sse42, ..., haswell, skylakex, zen4,
     * sapphirerapids, ...) load on this CPU ({@code llama-ref.mjs --list-cpu-variants}, once per JVM).
     */
    public static synchronized CpuVariants cpuVariants() throws Exception {
        requireNodeLlamaCpp();
        if (cpuVariants == null) {
            String out = NodeScripts.run(List.of("llama-ref.mjs", "--list-cpu-variants", "--variant-dir",
                    variantDir().toString()), "");
            Map<String, Object> o = Json.obj(Json.parse(out.strip()), "llama-ref --list-cpu-variants");
            cpuVariants = new CpuVariants(Json.str(o, "default"), strings(o.get("loadable")),
                    strings(o.get("unavailable")));
            System.out.println("llama.cpp CPU variants: ggml picks " + cpuVariants.defaultVariant() + "; loadable here "
                    + cpuVariants.loadable() + "; not loadable here " + cpuVariants.unavailable());
        }
        return cpuVariants;
    }

    /** Where llama-ref.mjs keeps its one-variant copies of the prebuilt package. */
    private static Path variantDir() {
        return moduleDir().resolve("target/llama-cpp-variants");
    }

    private static void requireNodeLlamaCpp() {
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/node-llama-cpp"))
                || !Files.isDirectory(NODE_DIR.resolve("node_modules/@node-llama-cpp/linux-x64"))) {
            fail("node-llama-cpp is not installed: run `NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional` in "
                    + NODE_DIR);
        }
    }

    /**
     * The CPU variants the agreement tests run llama.cpp under: by default every variant that loads on this CPU
     * (so the tests hold whichever one a machine gets); {@code -Dearnidle.llamacpp.variants=default} runs only
     * ggml's own pick, a comma-separated list runs those (each must load here).
     */
    public static List<String> variantsUnderTest() throws Exception {
        CpuVariants v = cpuVariants();
        String wanted = System.getProperty("earnidle.llamacpp.variants", "all").strip();
        if (wanted.equals("all") || wanted.isEmpty()) {
            return v.loadable();
        }
        if (wanted.equals("default")) {
            return List.of(v.defaultVariant());
        }
        List<String> out = new ArrayList<>();
        for (String name : wanted.split(",")) {
            if (!v.loadable().contains(name.strip())) {
                fail("-Dearnidle.llamacpp.variants: " + name.strip() + " does not load on this CPU (loadable: "
                        + v.loadable() + ")");
            }
            out.add(name.strip());
        }
        return out;
    }

    private static final Map<String, Map<Case, Oracle>> BY_VARIANT = new java.util.concurrent.ConcurrentHashMap<>();

    /** llama.cpp's answers for every case under CPU variant {@code cpuVariant}, computed once per JVM. */
    public static synchronized Map<Case, Oracle> all(String cpuVariant) throws Exception {
        Map<Case, Oracle> m = BY_VARIANT.get(cpuVariant);
        if (m == null) {
            m = run(WORK, cases(), GREEDY, cpuVariant);
            BY_VARIANT.put(cpuVariant, m);
        }
        return m;
    }

    /**
     * As {@link #run(Path, List, int)}, with llama.cpp restricted to the CPU variant {@code cpuVariant} (one of
     * {@link #cpuVariants()}'s loadable ones), or ggml's own pick when null. The models are synthesized once per JVM.
     */
    public static Map<Case, Oracle> run(Path work, List<Case> cases, int greedy, String cpuVariant) throws Exception {
        requireNodeLlamaCpp();
        Files.createDirectories(work);
        long t0 = System.nanoTime();
        List<Object> jobs = new ArrayList<>();
        Map<Case, int[]> prompts = new LinkedHashMap<>();
        for (Case c : cases) {
            Path p = work.resolve(c.file());
            if (SYNTHESIZED.add(p.toAbsolutePath())) {
                ModelSynthesizer.write(p, shape(c), c.type(), c.seed(), null);
            }
            int[] prompt = prompt(c);
            prompts.put(c, prompt);
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("model", p.toString());
            List<Object> ids = new ArrayList<>();
            for (int id : prompt) {
                ids.add(id);
            }
            job.put("prompt_ids", ids);
            job.put("greedy", greedy);
            jobs.add(job);
        }
        long t1 = System.nanoTime();
        Path jobsFile = work.resolve("jobs.json");
        Files.writeString(jobsFile, Json.write(jobs));
        List<String> args = new ArrayList<>(List.of("llama-ref.mjs", "--jobs", jobsFile.toString(), "--threads", "1"));
        if (cpuVariant != null) {
            args.addAll(List.of("--cpu-variant", cpuVariant, "--variant-dir", variantDir().toString()));
        }
        String out = NodeScripts.run(args, "");
        long t2 = System.nanoTime();
        Map<String, Reference> byModel = new LinkedHashMap<>();
        String loaded = null;
        for (String line : out.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> o = Json.obj(Json.parse(line), "llama-ref output");
            if (cpuVariant != null && !cpuVariant.equals(Json.str(o, "cpu_variant"))) {
                fail("llama-ref ran CPU variant " + Json.str(o, "cpu_variant") + ", not " + cpuVariant);
            }
            loaded = Json.str(o, "cpu_variant");
            byModel.put(Json.str(o, "model"), new Reference(floats(o.get("logits")), ints(o.get("greedy_ids")),
                    floats(o.get("top2_gaps"))));
        }
        assertEquals(jobs.size(), byModel.size(), "llama-ref answered " + byModel.size() + " of " + jobs.size()
                + " jobs");
        Map<Case, Oracle> res = new LinkedHashMap<>();
        for (Case c : cases) {
            Path p = work.resolve(c.file());
            res.put(c, new Oracle(c, p, prompts.get(c), byModel.get(p.toString())));
        }
        System.out.printf("llama.cpp oracle (CPU variant %s): models ready in %.1f s, llama.cpp ran %d in %.1f s%n",
                loaded, (t1 - t0) / 1e9, jobs.size(), (t2 - t1) / 1e9);
        return res;
    }

    static float[] floats(Object o) {
        List<?> l = (List<?>) o;
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((Number) l.get(i)).doubleValue();
        }
        return a;
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object e : (List<?>) o) {
            out.add((String) e);
        }
        return out;
    }

    static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Number) l.get(i)).intValue();
        }
        return a;
    }


    /**
     * Greedy ids must equal llama.cpp's at every step before llama.cpp's first top-2 gap below {@code tie} (an engine
     * may stop earlier at an end-of-generation token, which is then compared too). Returns the steps compared.
     */
    public static int compareGreedy(String what, int[] ids, Reference ref, double tie) {
        int n = 0;
        for (int i = 0; i < Math.min(ids.length, ref.greedy().length); i++) {
            if (ref.gaps()[i] < tie) {
                break;
            }
            int step = i;
            assertEquals(ref.greedy()[i], ids[i], () -> what + ": greedy step " + step + " differs from llama.cpp "
                    + "(gap " + ref.gaps()[step] + "); llama.cpp " + java.util.Arrays.toString(ref.greedy())
                    + ", ours " + java.util.Arrays.toString(ids));
            n++;
        }
        return n;
    }
}
