package io.earnidle.backend.capability;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import io.helidon.config.Config;

/**
 * The {@code earnidle.capability:} configuration section (docs/trust.md, "Capability, timing plausibility and
 * dispatch").
 *
 * @param benchmarkEnabled          a new session first runs a benchmark job, and gets customer jobs only once it has a
 *                                  measured capability (false: no benchmarks, every session is eligible as before)
 * @param benchmarkModel            the model benchmark jobs run (small: a benchmark is unpaid work)
 * @param benchmarkMaxTokens        max_tokens of a benchmark job
 * @param rebenchmarkFactor         a verified result on the benchmark model this many times faster (decode tok/s) than
 *                                  the engine's measured capability makes the capability stale: a new benchmark
 * @param implausibleFactor         a result on the benchmark model this many times faster than the measured capability
 *                                  is held for a new benchmark of its engine, and fails like a verification failure
 *                                  when it is still this many times faster than the new one
 * @param maxWeightBandwidthGbS     physics ceiling: decoding a token reads every weight once, so decode tok/s above
 *                                  this bandwidth (GB/s) / model size is impossible on any device
 * @param maxTflops                 physics ceiling for prefill: about 2 x 2 x size_bytes FLOPs per prompt token (at most
 *                                  2 parameters per byte, 2 FLOPs per parameter)
 * @param wallSlackMs               a benchmark's reported prefill_ms + decode_ms may exceed the wall time between its
 *                                  lease and its result by at most this much
 * @param rebenchmarkWaitSeconds    how long a result held for a new benchmark waits for it: then it fails
 * @param preferenceWaitMs          a customer job queued for less than this is left to a better-ranked idle session
 *                                  (warm, then reputation, then capability); 0 = no preference (oldest job to anyone)
 * @param liveSeconds               a session seen this recently (and holding no lease) counts as an idle rival
 * @param rivalSnapshotMs           the idle rivals of a model are read once per this long per backend instance and
 *                                  shared by its polls (so a rival's lease or arrival is seen this much later at
 *                                  most); 0 = read by every poll that needs them
 * @param maxDownloadSeconds        consent: a cold session gets a job only when the model downloads within this at its
 *                                  declared bandwidth_kbps (no bandwidth limit declared: no check)
 * @param challengeBytes            length of the byte range a model-possession challenge asks the SHA-256 of
 * @param engineTypes               engine name prefix -> the GGML tensor types it runs; engines not listed run every
 *                                  type the node's GGUF reader knows (the pure-Java engine)
 */
public record CapabilitySettings(boolean benchmarkEnabled, String benchmarkModel, int benchmarkMaxTokens,
                                 double rebenchmarkFactor, double implausibleFactor, double maxWeightBandwidthGbS,
                                 double maxTflops, long wallSlackMs, long rebenchmarkWaitSeconds,
                                 long preferenceWaitMs, long liveSeconds, long rivalSnapshotMs,
                                 long maxDownloadSeconds, int challengeBytes, Map<String, List<String>> engineTypes) {
    /** WebGPU kernels decode f32, f16, q4_0, q4_1, q8_0, q4_k, q6_k (webgpu-kernels formats.js): no bf16. */
    public static final Map<String, List<String>> DEFAULT_ENGINE_TYPES = Map.of(
            "webgpu", List.of("f32", "f16", "q4_0", "q4_1", "q8_0", "q4_k", "q6_k"));

    public CapabilitySettings {
        engineTypes = Map.copyOf(engineTypes);
        require(benchmarkMaxTokens >= 2, "benchmark.max-tokens must be >= 2");
        require(rebenchmarkFactor > 1 && implausibleFactor > 1,
                "rebenchmark-factor and plausibility.capability-factor must be > 1");
        require(maxWeightBandwidthGbS > 0 && maxTflops > 0, "plausibility ceilings must be > 0");
        require(wallSlackMs >= 0 && preferenceWaitMs >= 0 && liveSeconds > 0 && maxDownloadSeconds > 0,
                "wall-slack-ms, preference-wait-ms >= 0; live-seconds, max-download-seconds > 0");
        require(rivalSnapshotMs >= 0 && rivalSnapshotMs < liveSeconds * 1000,
                "dispatch.rival-snapshot-ms must be >= 0 and shorter than live-seconds");
        require(challengeBytes >= 1, "challenge-bytes must be >= 1");
        require(rebenchmarkWaitSeconds > 0, "plausibility.rebenchmark-wait-seconds must be > 0");
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("earnidle.capability." + what);
        }
    }

    public static CapabilitySettings from(Config c) {
        Map<String, List<String>> types = new TreeMap<>(DEFAULT_ENGINE_TYPES);
        c.get("dispatch.engine-types").asNodeList().ifPresent(nodes -> nodes.forEach(n ->
                types.put(n.name().toLowerCase(Locale.ROOT), n.asNodeList().get().stream() // a list, or 0, 1, ... keys
                        .map(t -> t.asString().get().toLowerCase(Locale.ROOT)).toList())));
        return new CapabilitySettings(
                c.get("benchmark.enabled").asBoolean().orElse(true),
                c.get("benchmark.model").asString().orElse("synthetic-tiny-f32"),
                c.get("benchmark.max-tokens").asInt().orElse(32),
                c.get("rebenchmark-factor").asDouble().orElse(3.0),
                c.get("plausibility.capability-factor").asDouble().orElse(10.0),
                c.get("plausibility.max-weight-bandwidth-gb-s").asDouble().orElse(5000.0),
                c.get("plausibility.max-tflops").asDouble().orElse(2000.0),
                c.get("plausibility.wall-slack-ms").asLong().orElse(1000L),
                c.get("plausibility.rebenchmark-wait-seconds").asLong().orElse(600L),
                c.get("dispatch.preference-wait-ms").asLong().orElse(5000L),
                c.get("dispatch.live-seconds").asLong().orElse(15L),
                c.get("dispatch.rival-snapshot-ms").asLong().orElse(500L),
                c.get("dispatch.max-download-seconds").asLong().orElse(600L),
                c.get("dispatch.challenge-bytes").asInt().orElse(65536),
                types);
    }

    /** The tensor types an engine runs, by the longest configured prefix of its name; null = every type. */
    public List<String> typesOf(String engine) {
        String e = engine.toLowerCase(Locale.ROOT);
        String best = null;
        for (String prefix : engineTypes.keySet()) {
            if (e.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? null : engineTypes.get(best);
    }
}
