package io.earnidle.backend.cascade;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.helidon.config.Config;

/**
 * The {@code earnidle.cascade:} configuration section (docs/api.md "Cascade").
 *
 * @param intervalMs how often queued jobs are checked in the background; 0 = never (tests call {@link Cascade#runDue})
 * @param classes    per job class (its {@code min_tier}): how long it may wait for a node, and the tier after that
 * @param upstream   the tier {@code upstream}, when configured
 */
public record CascadeSettings(long intervalMs, Map<String, Step> classes, Optional<Upstream> upstream) {
    /** The trust tiers that name a class of jobs, lowest first (docs/trust.md). */
    static final List<String> CLASSES = List.of("probation", "verified", "trusted");
    /** The tier that is an upstream API rather than a class of nodes. */
    public static final String UPSTREAM = "upstream";

    /** A class's deadline and the tier its jobs go to after it: a class of nodes or {@link #UPSTREAM}. */
    public record Step(Duration deadline, String next) {
    }

    /**
     * An upstream OpenAI-compatible API: its base URL (the {@code /completions} endpoint is below it), its key, the
     * limit of one call and the upstream's name of each model (default: the same id).
     */
    public record Upstream(URI url, String apiKey, Duration timeout, Map<String, String> models) {
        String modelName(String modelId) {
            return models.getOrDefault(modelId, modelId);
        }
    }

    public CascadeSettings {
        if (intervalMs < 0) {
            throw new IllegalArgumentException("earnidle.cascade.interval-ms must be >= 0");
        }
        for (Map.Entry<String, Step> e : classes.entrySet()) {
            String next = e.getValue().next();
            if (!CLASSES.contains(e.getKey())) {
                throw new IllegalArgumentException("earnidle.cascade.classes." + e.getKey() + ": a class is one of "
                        + CLASSES);
            }
            if (UPSTREAM.equals(next) ? upstream.isEmpty()
                    : !CLASSES.contains(next) || CLASSES.indexOf(next) <= CLASSES.indexOf(e.getKey())) {
                throw new IllegalArgumentException("earnidle.cascade.classes." + e.getKey() + ".next must be a "
                        + "higher class of nodes (verified, trusted) or upstream with earnidle.cascade.upstream.url "
                        + "set, got " + next);
            }
            if (e.getValue().deadline().isNegative()) {
                throw new IllegalArgumentException("earnidle.cascade.classes." + e.getKey()
                        + ".deadline-seconds must be >= 0");
            }
        }
    }

    public static CascadeSettings from(Config cascade) {
        Map<String, Step> classes = new HashMap<>();
        Config c = cascade.get("classes");
        for (Config step : c.asNodeList().orElse(List.of())) { // an unknown class is refused, not ignored
            String name = step.name();
            classes.put(name, new Step(Duration.ofSeconds(step.get("deadline-seconds").asLong().orElseThrow(
                    () -> new IllegalArgumentException("earnidle.cascade.classes." + name
                            + ".deadline-seconds is required"))),
                    step.get("next").asString().orElseThrow(() -> new IllegalArgumentException(
                            "earnidle.cascade.classes." + name + ".next is required"))));
        }
        Config u = cascade.get("upstream");
        String url = u.get("url").asString().orElse("").trim();
        Optional<Upstream> upstream = Optional.empty();
        if (!url.isEmpty()) {
            Map<String, String> models = new HashMap<>();
            for (Config m : u.get("models").asNodeList().orElse(List.of())) {
                models.put(m.name(), m.asString().get().trim());
            }
            upstream = Optional.of(new Upstream(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1)
                    : url), u.get("api-key").asString().orElse(""),
                    Duration.ofSeconds(u.get("timeout-seconds").asLong().orElse(120L)), Map.copyOf(models)));
        }
        return new CascadeSettings(cascade.get("interval-ms").asLong().orElse(1000L), Map.copyOf(classes), upstream);
    }

    /** The upstream, which the settings' check guarantees where a class names it. */
    Upstream requireUpstream() {
        return upstream.orElseThrow();
    }
}
