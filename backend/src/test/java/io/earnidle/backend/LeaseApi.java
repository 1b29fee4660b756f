package io.earnidle.backend;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The lease endpoints of docs/protocol.md for the lease tests: register with limits, heartbeats, failure reports. */
final class LeaseApi {
    /** A registered node session. */
    record Node(String id, String token) {
    }

    private final TestSupport.Api api;

    LeaseApi(TestSupport.Api api) {
        this.api = api;
    }

    Node register(long bandwidthKbps) {
        TestSupport.Resp r = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement","capabilities":{"wasm_simd":true,"cores":2},
                 "limits":{"cpu_share":0.5,"memory_mb":512,"bandwidth_kbps":%d}}""".formatted(bandwidthKbps));
        assertEquals(201, r.status(), r.text());
        return new Node(r.json().path("session_id").asText(), r.json().path("session_token").asText());
    }

    TestSupport.Resp progress(Node node, JsonNode lease, int[] ids, String text) {
        StringBuilder a = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            a.append(i == 0 ? "" : ",").append(ids[i]);
        }
        return progress(node, lease.path("job_id").asText(), lease.path("lease_id").asText(), ids.length,
                a.append(']').toString(), text);
    }

    TestSupport.Resp progress(Node node, String jobId, String leaseId, long tokensDone, String idsJson, String text) {
        return api.post("/api/inference/progress", node.token(), """
                {"job_id":"%s","lease_id":"%s","tokens_done":%d,"token_ids":%s,"text":%s}"""
                .formatted(jobId, leaseId, tokensDone, idsJson, TestSupport.quote(text)));
    }

    TestSupport.Resp failure(Node node, JsonNode lease, String reason) {
        return api.post("/api/inference/failure", node.token(), """
                {"job_id":"%s","lease_id":"%s","reason":"%s","detail":"test: %s"}"""
                .formatted(lease.path("job_id").asText(), lease.path("lease_id").asText(), reason, reason));
    }

    static Instant expiry(JsonNode leaseOrRenewal) {
        return Instant.parse(leaseOrRenewal.path("lease_expires_at").asText());
    }
}
