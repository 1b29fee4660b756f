package io.earnidle.backend.verification;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import io.helidon.config.Config;

/**
 * The {@code earnidle.trust:} configuration section (docs/trust.md).
 *
 * @param logitMargins     per weight type ({@code f32}, {@code f16}, {@code q8_0}, ...; {@code default} for the rest):
 *                         the largest gap between the verifier's picked token's logit and a claimed token's logit
 *                         that still passes
 * @param verifierThreads  worker threads that verify queued results (0: none; the queue then runs only when
 *                         {@link VerificationQueue#verifyPending} is called, as the tests do); by default one per
 *                         core ({@link #defaultVerifierThreads})
 * @param sampleRate       fraction of results verified (the rest are {@code skipped}); 1.0 = every result
 * @param maxAttempts      failed attempts a job may have before it fails for good: rejected results, and leases
 *                         that timed out or were reported failed (each re-queues it until then)
 */
public record TrustSettings(Map<String, Float> logitMargins, int verifierThreads, double sampleRate,
                            int maxAttempts) {
    /** 2x the largest derived llama.cpp tolerance (2N) of each type in docs/engine.md; see docs/trust.md. */
    public static final Map<String, Float> DEFAULT_MARGINS = Map.of(
            "f32", 2e-4f, "f16", 0.04f, "bf16", 0.4f, "q4_0", 1.2f, "q4_1", 1.2f, "q8_0", 1.2f,
            "q4_k", 1.8f, "q6_k", 1.6f, "default", 1.8f);

    public TrustSettings {
        logitMargins = Map.copyOf(logitMargins);
        if (!logitMargins.containsKey("default")) {
            throw new IllegalArgumentException("earnidle.trust.logit-margin must have a 'default' entry");
        }
        for (Map.Entry<String, Float> e : logitMargins.entrySet()) {
            if (!(e.getValue() >= 0) || e.getValue().isInfinite()) {
                throw new IllegalArgumentException("earnidle.trust.logit-margin." + e.getKey()
                        + " must be a finite number >= 0");
            }
        }
        if (verifierThreads < 0) {
            throw new IllegalArgumentException("earnidle.trust.verifier-threads must be >= 0");
        }
        if (!(sampleRate >= 0 && sampleRate <= 1)) {
            throw new IllegalArgumentException("earnidle.trust.sample-rate must be in [0, 1]");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("earnidle.trust.max-attempts must be >= 1");
        }
    }

    public static TrustSettings from(Config trust) {
        Map<String, Float> margins = new TreeMap<>(DEFAULT_MARGINS);
        Config m = trust.get("logit-margin");
        m.asNodeList().ifPresent(nodes -> nodes.forEach(n ->
                margins.put(n.name().toLowerCase(Locale.ROOT), n.asDouble().get().floatValue())));
        return new TrustSettings(margins,
                trust.get("verifier-threads").asInt().orElse(defaultVerifierThreads()),
                trust.get("sample-rate").asDouble().orElse(1.0),
                trust.get("max-attempts").asInt().orElse(3));
    }

    /**
     * One verifier thread per core: verification is CPU work (a teacher-forced forward pass per result), so one
     * thread per core lets it use the whole machine when requests leave it idle (e.g. the 32-token benchmarks of a
     * thousand sessions registering at once), while more threads than cores would only take turns.
     */
    public static int defaultVerifierThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The margin for a model whose dominant weight type is {@code weightType} (lower case, e.g. "q4_k"). */
    public float margin(String weightType) {
        Float m = logitMargins.get(weightType.toLowerCase(Locale.ROOT));
        return m != null ? m : logitMargins.get("default");
    }
}
