package io.earnidle.backend.leases;

import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * The capability the backend has without a benchmark. Speed: the decode speed the session reported with its last
 * accepted result on the same model ({@code token_count / decode_ms}), else the configured default; prefill always
 * the configured default. The defaults are given for a model of {@code reference-model-bytes} and scaled inversely
 * with the model's file size (decoding reads every weight once per token). A model is held when the session has an
 * accepted result on it (the node keeps the file in its cache). Reported figures are the node's own word: a node that
 * claims to be faster than it is only shortens its own leases; one that claims to be slower gets at most
 * {@code max-seconds} per lease and must still renew it with progress.
 */
public final class ReportedCapability implements NodeCapability {
    private final LeaseSettings settings;

    public ReportedCapability(LeaseSettings settings) {
        this.settings = settings;
    }

    @Override
    public Speed speed(DbExecute exec, String sessionId, Models.Model model) {
        return speed(model, lastResult(exec, sessionId, model));
    }

    /** The speed and whether the model is held, from one read of the session's last result on the model. */
    @Override
    public Fit fit(DbExecute exec, String sessionId, Models.Model model) {
        Optional<DbRow> last = lastResult(exec, sessionId, model);
        return new Fit(speed(model, last), last.isPresent());
    }

    /** The configured defaults scaled to the model's size, the decode speed from {@code last} when it has one. */
    private Speed speed(Models.Model model, Optional<DbRow> last) {
        double scale = (double) settings.referenceModelBytes() / model.sizeBytes();
        double prefill = settings.defaultPrefillTokensPerS() * scale;
        double decode = settings.defaultDecodeTokensPerS() * scale;
        if (last.isPresent()) {
            double ms = Database.dbl(last.get(), "decode_ms");
            long tokens = Database.lng(last.get(), "token_count");
            if (ms > 0 && tokens > 0) {
                decode = tokens * 1000.0 / ms; // the slower reading: the first token may be the prefill's
            }
        }
        return new Speed(prefill, decode);
    }

    private static Optional<DbRow> lastResult(DbExecute exec, String sessionId, Models.Model model) {
        return Database.get(exec, "lease-last-result-on-model", sessionId, model.id());
    }
}
