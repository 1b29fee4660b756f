package io.earnidle.backend.stats;

import io.helidon.config.Config;

/**
 * Settings of the public network statistics ({@code earnidle.stats}, docs/stats.md).
 *
 * @param onlineSeconds     a node session seen (poll, heartbeat or result) this recently counts as online
 * @param rateWindowSeconds jobs per minute and tokens per second are averaged over this many last seconds
 */
public record StatsSettings(long onlineSeconds, long rateWindowSeconds) {
    public StatsSettings {
        if (onlineSeconds < 1 || rateWindowSeconds < 60) {
            throw new IllegalArgumentException("earnidle.stats: need online-seconds >= 1 and rate-window-seconds >= 60");
        }
    }

    public static StatsSettings from(Config stats) {
        return new StatsSettings(stats.get("online-seconds").asLong().orElse(60L),
                stats.get("rate-window-seconds").asLong().orElse(3600L));
    }
}
