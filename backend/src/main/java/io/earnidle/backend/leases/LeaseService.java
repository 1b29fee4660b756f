package io.earnidle.backend.leases;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /api/inference/progress} (a heartbeat: renews the lease, stores the output so far) and
 * {@code POST /api/inference/failure} (the node gives the lease up: out of memory, engine error, failed download, ...).
 * Mounted on {@code /api/inference} next to the lease and result endpoints; docs/protocol.md.
 */
public final class LeaseService implements HttpService {
    /** The failure reasons a node may report. */
    public static final Set<String> REASONS = Set.of("out_of_memory", "engine_error", "download_failed",
            "cancelled", "other");
    private static final int MAX_TEXT_BYTES = 64 * 1024;
    private static final int MAX_DETAIL_CHARS = 1000;

    /** Authenticates a node session's request and answers its id (the lease holder's, expired sessions included). */
    public interface LeaseHolder {
        String sessionId(ServerRequest req);
    }

    private final Leases leases;
    private final LeaseHolder holder;
    private final int maxBodyBytes;

    public LeaseService(Leases leases, LeaseHolder holder, int maxBodyBytes) {
        this.leases = leases;
        this.holder = holder;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/progress", this::progress)
                .post("/failure", this::failure);
    }

    private void progress(ServerRequest req, ServerResponse res) {
        String sessionId = holder.sessionId(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String jobId = Fields.requiredString(body, "job_id", 64);
        String leaseId = Fields.requiredString(body, "lease_id", 64);
        long done = Fields.requiredLong(body, "tokens_done", 0, Integer.MAX_VALUE);
        int[] ids = done == 0 && (!Fields.present(body, "token_ids") || body.get("token_ids").isEmpty())
                ? new int[0] : Fields.intArray(body, "token_ids", 1 << 20, Integer.MAX_VALUE);
        if (ids.length != done) {
            throw Problem.validation("tokens_done must equal the length of token_ids: " + done + " != "
                    + ids.length);
        }
        JsonNode textNode = body.get("text");
        if (textNode == null || !textNode.isTextual()) {
            throw Problem.validation("text is required and must be a string (the output decoded so far)");
        }
        String text = textNode.textValue();
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_TEXT_BYTES) {
            throw Problem.validation("text must be at most 64 KiB");
        }
        Leases.Renewed r = leases.progress(sessionId, jobId, leaseId, ids, text);
        ObjectNode out = Json.object();
        out.put("job_id", jobId);
        out.put("lease_id", leaseId);
        out.put("lease_expires_at", r.expiresAt().toString());
        out.put("tokens_done", r.tokensDone());
        Json.send(res, Status.OK_200, out);
    }

    private void failure(ServerRequest req, ServerResponse res) {
        String sessionId = holder.sessionId(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String jobId = Fields.requiredString(body, "job_id", 64);
        String leaseId = Fields.requiredString(body, "lease_id", 64);
        String reason = Fields.requiredString(body, "reason", 32);
        if (!REASONS.contains(reason)) {
            throw Problem.validation("reason must be one of " + String.join(", ", REASONS.stream().sorted().toList())
                    + ", got " + reason);
        }
        String detail = Fields.present(body, "detail") ? Fields.requiredString(body, "detail", 4 * MAX_DETAIL_CHARS)
                : null;
        if (detail != null && detail.length() > MAX_DETAIL_CHARS) {
            detail = detail.substring(0, MAX_DETAIL_CHARS);
        }
        Leases.Ended e = leases.failure(sessionId, jobId, leaseId, reason, detail);
        ObjectNode out = Json.object();
        out.put("job_id", jobId);
        out.put("status", e.status());
        out.put("failed_attempts", e.failedAttempts());
        out.put("max_attempts", leases.maxAttempts());
        Json.send(res, Status.OK_200, out);
    }
}
