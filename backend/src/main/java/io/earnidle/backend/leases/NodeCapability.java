package io.earnidle.backend.leases;

import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbExecute;

/**
 * What a lease is sized from on the node's side: how fast the node runs a model, and whether it already holds the
 * model's file. {@link ReportedCapability} answers from the node's own reported figures and the configured defaults;
 * a measured capability (a benchmark per engine) plugs in here by implementing this interface.
 */
public interface NodeCapability {
    /**
     * Speeds as the job will see them on this node: wall-clock tokens per second under the node's limits (its CPU
     * share included), both above 0.
     */
    record Speed(double prefillTokensPerS, double decodeTokensPerS) {
        public Speed {
            if (!(prefillTokensPerS > 0) || !(decodeTokensPerS > 0)) {
                throw new IllegalArgumentException("speeds must be > 0: " + prefillTokensPerS + ", "
                        + decodeTokensPerS);
            }
        }
    }

    /** The speed of session {@code sessionId} on {@code model}. */
    Speed speed(DbExecute exec, String sessionId, Models.Model model);

    /**
     * What a whole job on {@code model} is sized from: the session's speed on it, and whether it holds the model's file
     * already (no download is left to do).
     */
    record Fit(Speed speed, boolean holdsModel) {
    }

    /** The {@link Fit} of session {@code sessionId} for {@code model}. */
    Fit fit(DbExecute exec, String sessionId, Models.Model model);
}
