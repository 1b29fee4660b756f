package io.earnidle.backend.capability;

import java.util.Optional;

/**
 * Whether a result's reported timing is possible (docs/trust.md, "Timing plausibility"). Pure rules, no state:
 * <ul>
 *   <li><b>physics</b>: decoding a token reads every weight once, so decode tok/s above
 *       {@code max-weight-bandwidth-gb-s} / model size is impossible on any device; a prompt token costs about
 *       2 FLOPs per parameter and a file holds at most 2 parameters per byte, so prefill tok/s above
 *       {@code max-tflops} / (4 x model size) is too;</li>
 *   <li><b>capability</b>: on the benchmark model, faster than {@code capability-factor} x the engine's measured
 *       prefill or decode tok/s;</li>
 *   <li><b>wall time</b> (benchmarks): the reported prefill_ms + decode_ms cannot exceed the wall time between the
 *       lease and the result by more than {@code wall-slack-ms}; the measurement must fit in what was observed.</li>
 * </ul>
 * Decode speed counts the tokens after the first ({@code token_count - 1} forward passes after the prefill, which
 * yields the first token's logits); a 1-token result has no decode speed. Prefill speed needs the prompt's token
 * count, known for benchmark jobs (the backend tokenizes its own prompt) and {@code prompt_ids} jobs.
 */
public final class TimingPlausibility {
    private TimingPlausibility() {
    }

    /** Reported timing of one result; {@code promptTokens} is -1 when unknown. */
    public record Timing(int promptTokens, int tokenCount, double prefillMs, double decodeMs) {
        /** Tokens per second of the decode, +inf for 0 ms; NaN for a 1-token result. */
        public double decodeTokS() {
            return tokenCount < 2 ? Double.NaN : rate(tokenCount - 1, decodeMs);
        }

        /** Tokens per second of the prefill, +inf for 0 ms; NaN when the prompt's length is unknown. */
        public double prefillTokS() {
            return promptTokens < 1 ? Double.NaN : rate(promptTokens, prefillMs);
        }

        private static double rate(int tokens, double ms) {
            return ms <= 0 ? Double.POSITIVE_INFINITY : tokens / (ms / 1000.0);
        }
    }

    /** Measured speed of an engine on the benchmark model; 0 = not measured (a benchmark that ended at 1 token). */
    public record Measured(double prefillTokS, double decodeTokS) {
        boolean decodeExceeds(double factor, Timing t) {
            return decodeTokS > 0 && t.decodeTokS() > factor * decodeTokS;
        }

        boolean prefillExceeds(double factor, Timing t) {
            return prefillTokS > 0 && t.prefillTokS() > factor * prefillTokS;
        }
    }

    /** Why {@code t} on a model of {@code modelBytes} is impossible on any device, if it is. */
    public static Optional<String> physics(CapabilitySettings s, Timing t, long modelBytes) {
        double maxDecode = s.maxWeightBandwidthGbS() * 1e9 / modelBytes;
        if (t.decodeTokS() > maxDecode) {
            return Optional.of(String.format("implausible timing: decode %.4g tok/s is above the physical ceiling "
                    + "%.4g tok/s for a %d-byte model", t.decodeTokS(), maxDecode, modelBytes));
        }
        double maxPrefill = s.maxTflops() * 1e12 / (4.0 * modelBytes);
        if (t.prefillTokS() > maxPrefill) {
            return Optional.of(String.format("implausible timing: prefill %.4g tok/s is above the physical ceiling "
                    + "%.4g tok/s for a %d-byte model", t.prefillTokS(), maxPrefill, modelBytes));
        }
        return Optional.empty();
    }

    /** Why {@code t} is implausibly fast for the engine's measured capability {@code m}, if it is. */
    public static Optional<String> againstCapability(CapabilitySettings s, Timing t, Measured m) {
        double f = s.implausibleFactor();
        if (m.decodeExceeds(f, t)) {
            return Optional.of(String.format("implausible timing: decode %.4g tok/s is more than %.3g x the "
                    + "measured %.4g tok/s", t.decodeTokS(), f, m.decodeTokS()));
        }
        if (m.prefillExceeds(f, t)) {
            return Optional.of(String.format("implausible timing: prefill %.4g tok/s is more than %.3g x the "
                    + "measured %.4g tok/s", t.prefillTokS(), f, m.prefillTokS()));
        }
        return Optional.empty();
    }

    /** Why a benchmark's reported time does not fit in the observed {@code wallMs}, if it does not. */
    public static Optional<String> againstWallTime(CapabilitySettings s, Timing t, double wallMs) {
        double reported = t.prefillMs() + t.decodeMs();
        if (reported > wallMs + s.wallSlackMs()) {
            return Optional.of(String.format("implausible timing: %.1f ms reported but only %.1f ms passed between "
                    + "the lease and the result", reported, wallMs));
        }
        return Optional.empty();
    }

    /** Whether verified work {@code t} is so much faster than {@code m} that the engine should be benchmarked again. */
    public static boolean farFaster(CapabilitySettings s, Timing t, Measured m) {
        return m.decodeExceeds(s.rebenchmarkFactor(), t) || m.prefillExceeds(s.rebenchmarkFactor(), t);
    }
}
