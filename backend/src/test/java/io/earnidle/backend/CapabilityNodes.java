package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;

import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Node-side steps of the capability and dispatch tests: register with reports, poll, run honestly, answer. */
final class CapabilityNodes {
    /** A registered node: token, session id and the registration response. */
    record Node(String token, String id, JsonNode registration) {
    }

    private final Api api;
    private byte[] tinyFile;

    CapabilityNodes(Api api) {
        this.api = api;
    }

    /** Registers on the demo placement with {@code extra} JSON fields (e.g. engines, models_held) and limits. */
    Node register(String limits, String extra) {
        Resp r = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement",
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":%s%s}""".formatted(limits, extra.isEmpty() ? "" : "," + extra));
        assertEquals(201, r.status(), r.text());
        return new Node(r.json().path("session_token").asText(), r.json().path("session_id").asText(), r.json());
    }

    Node register(String extra) {
        return register("{\"cpu_share\":0.5,\"gpu\":false,\"memory_mb\":512}", extra);
    }

    /** Polls once: the lease, or null on 204. */
    JsonNode poll(Node n) {
        Resp r = api.get("/api/inference/job", n.token());
        if (r.status() == 204) {
            return null;
        }
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    /** The served model file (the synthetic tiny model). */
    byte[] tinyFile() {
        if (tinyFile == null) {
            Resp r = api.get("/models/synthetic-tiny-f32.gguf", null);
            assertEquals(200, r.status());
            tinyFile = r.bytes();
        }
        return tinyFile;
    }

    /** Runs the lease on the JVM engine as an honest node does. */
    GenerationResult run(JsonNode lease) {
        return LlamaModel.load(ByteBuffer.wrap(tinyFile())).generate(JobSpec.parse(lease.toString()).toRequest());
    }

    /** Posts {@code gen}'s tokens and text with the given reported timing; returns the response. */
    Resp submit(Node n, JsonNode lease, GenerationResult gen, double prefillMs, double decodeMs) {
        try {
            String body = """
                    {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                     "timing":{"prefill_ms":%s,"decode_ms":%s}}""".formatted(lease.path("job_id").asText(),
                    lease.path("lease_id").asText(), TestSupport.quote(gen.text()),
                    Json.MAPPER.writeValueAsString(gen.tokenIds()), gen.tokenIds().length, prefillMs, decodeMs);
            return api.result(n.token(), body, UUID.randomUUID().toString());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reported {prefill_ms, decode_ms} that make a result of {@code promptTokens} + {@code tokens} exactly
     * {@code factor} times faster than the node's measured capability (decode: 1 ms when it has no decode speed).
     */
    double[] timingAt(Node n, int promptTokens, int tokens, double factor) {
        JsonNode e = capability(n).path("engines").path(0);
        double prefill = e.path("prefill_tok_s").asDouble();
        double decode = e.path("decode_tok_s").asDouble();
        return new double[] {promptTokens / (factor * prefill) * 1000,
                decode > 0 && tokens >= 2 ? (tokens - 1) / (factor * decode) * 1000 : 1.0};
    }

    /**
     * Registers claiming the tiny model and answers its possession challenge, right ({@code honest}) or wrong; a
     * right answer makes the node warm for the model.
     */
    Node warm(boolean honest) {
        String sha = Ids.sha256Hex(tinyFile());
        Node n = register("\"models_held\":[\"" + sha + "\"]");
        JsonNode c = n.registration().path("model_challenges").path(0);
        assertEquals(sha, c.path("sha256").asText());
        int offset = c.path("offset").asInt();
        byte[] range = Arrays.copyOfRange(tinyFile(), offset, offset + c.path("length").asInt());
        if (!honest) {
            range[0] ^= 1;
        }
        Resp r = api.post("/api/nodes/me/models", n.token(), """
                {"proofs":[{"sha256":"%s","range_sha256":"%s"}]}""".formatted(sha,
                Ids.sha256Hex(range)));
        assertEquals(200, r.status(), r.text());
        assertEquals(honest, r.json().path("proofs").path(0).path("proved").asBoolean());
        assertEquals(honest, capability(n).path("warm_models").toString().contains(sha));
        return n;
    }

    JsonNode capability(Node n) {
        Resp r = api.get("/api/nodes/me/capability", n.token());
        assertEquals(200, r.status(), r.text());
        return r.json();
    }
}
