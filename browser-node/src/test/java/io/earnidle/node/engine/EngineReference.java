package io.earnidle.node.engine;

import io.earnidle.node.llama.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reference a browser engine's greedy run is checked against: the ids an engine on the JVM generates, with the
 * top-2 logit gap of every step, and the rule that stops the comparison at the first near tie. Used by the engine
 * tests in Chromium (BrowserEnginesTest, WebGpuPrefillTest) and the node's (BrowserNodeEnginesTest).
 */
public final class EngineReference {
    private EngineReference() {
    }

    /** Reference: greedy ids with the top-2 gap of the logits each was chosen from, and the first logits. */
    public record Reference(int[] ids, double[] gaps, float[] first) {
    }

    /** Greedy ids of {@code request} on {@code e}, with the top-2 logit gap of every step. */
    public static Reference reference(Engine e, GenerationRequest request) {
        List<float[]> steps = new ArrayList<>();
        Engine recording = new Engine() {
            public String name() {
                return e.name();
            }

            public io.earnidle.node.llama.LlamaConfig config() {
                return e.config();
            }

            public io.earnidle.node.tokenizer.Tokenizer tokenizer() {
                return e.tokenizer();
            }

            public void begin(int positions) {
                e.begin(positions);
            }

            public void step(int token, int pos, int output, StepCallback cb) {
                e.step(token, pos, output == OUT_NONE ? OUT_NONE : OUT_LOGITS, (a, l, err) -> {
                    if (l != null) {
                        steps.add(l.clone());
                    }
                    cb.done(a, l, err);
                });
            }

            public Map<String, Object> counters() {
                return e.counters();
            }

            public void close() {
                e.close();
            }
        };
        EngineGenerator.Outcome[] box = new EngineGenerator.Outcome[1];
        EngineGenerator.generate(recording, request, true, o -> box[0] = o);
        double[] gaps = new double[steps.size()];
        for (int i = 0; i < gaps.length; i++) {
            float[] l = steps.get(i);
            float a = Float.NEGATIVE_INFINITY;
            float b = Float.NEGATIVE_INFINITY;
            for (float v : l) {
                if (v > a) {
                    b = a;
                    a = v;
                } else if (v > b) {
                    b = v;
                }
            }
            gaps[i] = a - b;
        }
        return new Reference(box[0].result().tokenIds(), gaps, box[0].firstLogits());
    }

    /** Greedy ids must equal the reference's up to (and including) the first step with a top-2 gap below 0.02. */
    public static void assertGreedyAgrees(Reference ref, int[] got, String what) {
        for (int i = 0; i < ref.ids().length; i++) {
            assertEquals(ref.ids()[i], got[i], what + ": greedy id " + i);
            if (ref.gaps()[i] < 0.02) {
                return;
            }
        }
    }
}
