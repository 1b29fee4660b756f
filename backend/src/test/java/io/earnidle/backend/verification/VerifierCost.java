package io.earnidle.backend.verification;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import io.earnidle.backend.verification.kernels.VerifierKernels;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.llama.ops.TensorOps;
import io.earnidle.node.synth.ModelSynthesizer;

/**
 * The verifier's cost (docs/trust.md, "Cost of the verifier"). Not a test: run it by hand, with the Vector API, e.g.
 * {@code java --add-modules jdk.incubator.vector -cp
 * backend/target/classes:backend/target/test-classes:browser-node/target/classes
 * io.earnidle.backend.verification.VerifierCost MODEL.gguf 128 64 5 [vector|scalar]}.
 *
 * <p>Verifies an honest greedy result of {@code args[2]} tokens to a seeded prompt of {@code args[1]} token ids
 * ({@code args[3]} times after one warm-up) and prints per verification the CPU time of the verifying thread
 * (ThreadMXBean), the wall time and the verified tokens per second per core. The honest result is generated once
 * with the same kernels, token by token, and kept next to the model ({@code MODEL.gguf.honest-P-O}) for reruns.
 * With {@code tiny} as the model it runs on the synthetic tiny model instead.
 */
public final class VerifierCost {
    private VerifierCost() {
    }

    public static void main(String[] args) throws Exception {
        int promptTokens = Integer.parseInt(args[1]);
        int outputTokens = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        TensorOps ops = args.length > 4 && args[4].equals("scalar") ? VerifierKernels.scalar() : VerifierKernels.best();
        boolean tiny = args[0].equals("tiny");
        LlamaModel model = tiny ? LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(1L)), ops)
                : LlamaModel.load(Path.of(args[0]), ops);
        String type = tiny ? "f32" : WeightType.of(Path.of(args[0]));
        float margin = TrustSettings.DEFAULT_MARGINS.getOrDefault(type, TrustSettings.DEFAULT_MARGINS.get("default"));
        // seeded prompt ids below the special tokens (a real model's specials sit at the end of the vocabulary)
        int[] prompt = new SplittableRandom(19).ints(promptTokens, 0, model.vocabSize() * 9 / 10).toArray();
        GenerationRequest r = new GenerationRequest(null, prompt, false, outputTokens, Sampling.greedy());
        int[] honest = honest(model, r, tiny ? null : Path.of(args[0] + ".honest-" + promptTokens + "-" + outputTokens));
        String text = model.tokenizer().decode(honest);
        System.out.printf("model %s (%s), kernels %s; prompt %d + output %d tokens%n", args[0], type, ops.name(),
                promptTokens, honest.length);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int i = 0; i <= reps; i++) {
            long cpu0 = mx.getCurrentThreadCpuTime();
            long wall0 = System.nanoTime();
            ResultVerifier.Verdict v = ResultVerifier.verify(model, r, honest, text, margin);
            double cpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e9;
            double wall = (System.nanoTime() - wall0) / 1e9;
            if (!v.passed()) {
                throw new AssertionError("an honest result failed: " + v.reason());
            }
            System.out.printf("%s: cpu %.2f s, wall %.2f s; %.1f positions/s per core, %.1f output tokens/s per"
                            + " core; within margin %d%n", i == 0 ? "warm-up" : "run " + i, cpu, wall,
                    (promptTokens + honest.length - 1) / cpu, honest.length / cpu, v.withinMargin());
        }
    }

    /** The greedy result of {@code r}, generated token by token (cached in {@code cache} when not null). */
    private static int[] honest(LlamaModel model, GenerationRequest r, Path cache) throws Exception {
        if (cache != null && Files.exists(cache)) {
            return Arrays.stream(Files.readString(cache).trim().split(",")).mapToInt(Integer::parseInt).toArray();
        }
        long t0 = System.nanoTime();
        GenerationResult g = model.generate(r);
        System.out.printf("generated the honest result in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (cache != null) {
            Files.writeString(cache, Arrays.stream(g.tokenIds()).mapToObj(Integer::toString)
                    .collect(Collectors.joining(",")));
        }
        return g.tokenIds();
    }
}
