package io.earnidle.backend.reputation;

import java.util.Locale;

/** Trust tiers, lowest first (docs/trust.md). The rank orders them in the lease query's tier gate. */
public enum Tier {
    PROBATION, VERIFIED, TRUSTED;

    /** The name in the API, config and the {@code jobs.min_tier} column. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public int rank() {
        return ordinal();
    }

    /** The tier named {@code key} (case-insensitive); throws for another name. */
    public static Tier of(String key) {
        for (Tier t : values()) {
            if (t.key().equalsIgnoreCase(key)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown tier '" + key + "' (probation, verified or trusted)");
    }
}
