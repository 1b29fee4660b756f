package io.earnidle.backend.jobs;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.ModelService;
import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbRow;

/** A job as a node sees it: the body of {@code GET /api/inference/job} (docs/protocol.md). */
public final class JobJson {
    private JobJson() {
    }

    /** The lease body of {@code job} (a row of {@code jobs}) on {@code model}, under lease {@code leaseId}. */
    public static ObjectNode lease(DbRow job, Models.Model model, String leaseId, Instant leaseExpiresAt) {
        ObjectNode out = Json.object();
        out.put("job_id", Database.str(job, "id"));
        out.put("lease_id", leaseId);
        out.put("lease_expires_at", leaseExpiresAt.toString());
        ObjectNode m = ModelService.json(model);
        m.remove("vocab_size");
        m.remove("context_length");
        out.set("model", m);
        String ids = Database.str(job, "prompt_ids_json");
        out.put("prompt", Database.str(job, "prompt"));
        out.set("prompt_ids", ids == null ? null : Json.parse(ids));
        out.put("add_bos", Database.bool(job, "add_bos"));
        out.set("sampling", Json.parse(Database.str(job, "sampling_json")));
        out.put("max_tokens", Database.lng(job, "max_tokens"));
        return out;
    }
}
