package io.earnidle.backend.cluster;

import java.time.Duration;
import java.util.UUID;

import io.helidon.config.Config;

/**
 * The {@code earnidle.cluster:} configuration section (docs/operations.md, "Cluster mode").
 *
 * @param enabled       several backend instances share one PostgreSQL database; each background job runs only on
 *                      the instance that holds its row in {@code cluster_leaders}. False (the default): this instance
 *                      is alone and runs every background job, touching no leader rows
 * @param instanceId    this instance's name in {@code cluster_leaders.holder} (unique per running instance)
 * @param leaderLease   how long a leader row is held from a renewal; another instance takes the job over this long
 *                      after the leader stopped renewing (a leader that stops cleanly hands it over at once)
 * @param renewInterval how often every instance renews the rows it holds and tries to take the expired ones;
 *                      at most a third of {@code leaderLease}, so two renewals can fail before leadership lapses
 */
public record ClusterSettings(boolean enabled, String instanceId, Duration leaderLease, Duration renewInterval) {
    public ClusterSettings {
        if (instanceId.isBlank() || instanceId.length() > 128) {
            throw new IllegalArgumentException("earnidle.cluster.instance-id must be 1 to 128 characters");
        }
        if (renewInterval.isNegative() || renewInterval.isZero()
                || renewInterval.multipliedBy(3).compareTo(leaderLease) > 0) {
            throw new IllegalArgumentException(
                    "earnidle.cluster: need 0 < renew-interval-ms <= leader-lease-ms / 3");
        }
    }

    /** @param cluster the {@code earnidle.cluster} config node */
    public static ClusterSettings from(Config cluster) {
        String id = cluster.get("instance-id").asString().orElse("");
        if (id.isBlank()) {
            id = hostName() + "-" + UUID.randomUUID().toString().substring(0, 8);
        }
        return new ClusterSettings(cluster.get("enabled").asBoolean().orElse(false), id,
                Duration.ofMillis(cluster.get("leader-lease-ms").asLong().orElse(15_000L)),
                Duration.ofMillis(cluster.get("renew-interval-ms").asLong().orElse(5_000L)));
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "backend";
        }
    }
}
