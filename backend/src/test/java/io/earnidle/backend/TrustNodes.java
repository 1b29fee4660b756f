package io.earnidle.backend;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;

import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Nodes for the trust tests (docs/trust.md), over the real HTTP API: registration with or without a verified
 * wallet, honest results from the JVM engine (the node's own code), forged ones, and the customer's jobs.
 */
final class TrustNodes {
    private final TestSupport.Api api;
    private LlamaModel model;

    TrustNodes(TestSupport.Api api) {
        this.api = api;
    }

    /** A registered node session: its token, id and ledger account. */
    record Node(String token, String id) {
        String account() {
            return Ledger.accountId("node_session", id);
        }
    }

    /** A new session; linked at birth to the wallet of {@code walletToken} when not null. */
    Node register(String walletToken) {
        String wallet = walletToken == null ? "" : "\"wallet_token\":\"" + walletToken + "\",";
        Resp r = api.post("/api/nodes", null, """
                {"placement_id":"demo-placement",%s
                 "capabilities":{"webgpu":false,"wasm_simd":true,"threads":false,"cores":2,"device_memory_gb":8},
                 "limits":{"cpu_share":0.5,"gpu":false,"memory_mb":512,"bandwidth_kbps":256}}""".formatted(wallet));
        assertEquals(201, r.status(), r.text());
        return new Node(r.json().path("session_token").asText(), r.json().path("session_id").asText());
    }

    /** A fresh verified wallet (SIWE over the API); returns its token. */
    String wallet(Instant now) {
        return WalletTestSupport.signIn(api, WalletTestSupport.newKey(), now);
    }

    /** Submits a text job as the demo customer; returns its id. */
    String submit(String prompt, int maxTokens, String sampling, String extra) {
        Resp r = api.post("/api/jobs", CUSTOMER_KEY, """
                {"model":"synthetic-tiny-f32","prompt":%s,"max_tokens":%d,"sampling":%s%s}"""
                .formatted(TestSupport.quote(prompt), maxTokens, sampling, extra));
        assertEquals(202, r.status(), r.text());
        return r.json().path("id").asText();
    }

    String submit(String prompt, int maxTokens) {
        return submit(prompt, maxTokens, "{\"temperature\":0,\"seed\":42}", "");
    }

    /** One poll: the lease, or null for 204. */
    JsonNode poll(Node node) {
        Resp r = api.get("/api/inference/job", node.token());
        if (r.status() == 204) {
            return null;
        }
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    /** The synthetic model, downloaded once through the lease's URL as a node does. */
    LlamaModel model(JsonNode lease) {
        if (model == null) {
            model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null).bytes()));
        }
        return model;
    }

    /** What an honest node computes for the lease: the JVM engine run on the job. */
    GenerationResult run(JsonNode lease) {
        return model(lease).generate(JobSpec.parse(lease.toString()).toRequest());
    }

    /** Runs the lease honestly and posts the result. */
    JsonNode honest(Node node, JsonNode lease) {
        GenerationResult gen = run(lease);
        return post(node, lease, gen.text(), gen.tokenIds());
    }

    /** Random token ids of the tiny model's ordinary tokens, as long as the job allows. */
    static int[] randomIds(JsonNode lease, Random rnd) {
        int[] ids = new int[lease.path("max_tokens").asInt()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 20 + rnd.nextInt(280);
        }
        return ids;
    }

    JsonNode forged(Node node, JsonNode lease, long seed) {
        return post(node, lease, "forged", randomIds(lease, new Random(seed)));
    }

    /** Posts a result; asserts it was accepted. */
    JsonNode post(Node node, JsonNode lease, String text, int[] ids) {
        Resp r = postRaw(node, lease, text, ids);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    /** Posts a result with the given reported timing; asserts it was accepted. */
    JsonNode post(Node node, JsonNode lease, String text, int[] ids, double prefillMs, double decodeMs) {
        Resp r = postRaw(node, lease, text, ids, prefillMs, decodeMs);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    Resp postRaw(Node node, JsonNode lease, String text, int[] ids) {
        return postRaw(node, lease, text, ids, 1.0, 2.0);
    }

    Resp postRaw(Node node, JsonNode lease, String text, int[] ids, double prefillMs, double decodeMs) {
        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":%s,"decode_ms":%s}}""".formatted(lease.path("job_id").asText(),
                lease.path("lease_id").asText(), TestSupport.quote(text), Json.write(ids), ids.length,
                Double.toString(prefillMs), Double.toString(decodeMs));
        return api.result(node.token(), body, UUID.randomUUID().toString());
    }

    JsonNode me(Node node) {
        Resp r = api.get("/api/nodes/me", node.token());
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    JsonNode job(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
    }
}
