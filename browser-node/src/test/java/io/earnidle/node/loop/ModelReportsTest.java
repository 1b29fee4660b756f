package io.earnidle.node.loop;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static io.earnidle.node.loop.NodeLoopLimitsTest.MODEL;
import static io.earnidle.node.loop.NodeLoopLimitsTest.SHA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's reports for dispatch (docs/protocol.md): engines and held model files at registration, the answer to the
 * backend's byte-range challenge from the persistent cache, and the held files with every poll.
 */
class ModelReportsTest {
    private static Map<String, Object> body(String[] request) {
        return Json.obj(Json.parse(request[4]), "body");
    }

    @Test
    void registrationReportsEnginesAndCachedFilesAndAnswersTheChallenge() {
        FakeHost h = NodeLoopLimitsTest.host(NodeLoopLimitsTest.job("j1", "tiny", SHA, MODEL.length, 4));
        h.pollsBeforeJob = 5;
        h.cache.put(NodeLoop.cacheKey("http://h:1", "tiny", SHA), MODEL);
        h.registrationExtra = ",\"model_challenges\":[{\"sha256\":\"" + SHA + "\",\"offset\":100,\"length\":1000},"
                + "{\"sha256\":\"" + "0".repeat(64) + "\",\"offset\":0,\"length\":10}]";
        NodeLoop loop = NodeLoop.fromStartMessage(h, "{\"type\":\"start\",\"apiBase\":\"http://h:1\","
                + "\"placementId\":\"p\",\"capabilities\":{\"webgpu\":true,\"wasm_simd\":true},"
                + "\"limits\":{\"cpu_share\":0.5,\"gpu\":false}}");
        loop.start();
        h.pump(12);

        Map<String, Object> reg = body(h.requests.get(0));
        assertEquals(List.of("wasm-simd", "test"), reg.get("engines"), "no WebGPU: the visitor did not allow the GPU");
        assertEquals(List.of(SHA), reg.get("models_held"));

        String[] proof = h.requests.stream().filter(r -> r[1].equals("http://h:1/api/nodes/me/models")).findFirst()
                .orElseThrow();
        assertEquals("nst_1", proof[2]);
        assertEquals(Map.of("proofs", List.of(Map.of("sha256", SHA,
                        "range_sha256", Sha256.hex(Arrays.copyOfRange(MODEL, 100, 1100))))), Json.parse(proof[4]),
                "only the file it holds is answered, with the SHA-256 of the asked range");
        assertTrue(h.requests.stream().anyMatch(r -> r[1].equals("http://h:1/api/inference/job?held=" + SHA)),
                "polls list the held file");
    }

    @Test
    void aFetchedModelIsReportedWithThePolls() {
        FakeHost h = NodeLoopLimitsTest.host(NodeLoopLimitsTest.job("j1", "tiny", SHA, MODEL.length, 4));
        NodeLoop loop = NodeLoopLimitsTest.start(h, "{\"cpu_share\":1}", "");
        h.pump(400);
        assertEquals(1, loop.jobsCompleted());
        assertEquals(List.of(), body(h.requests.get(0)).get("models_held"), "nothing cached at the start");
        assertEquals("http://h:1/api/inference/job", h.requests.stream()
                .filter(r -> FakeHost.path(r[1]).endsWith("/api/inference/job")).findFirst().orElseThrow()[1]);
        String[] lastPoll = h.requests.stream().filter(r -> FakeHost.path(r[1]).endsWith("/api/inference/job"))
                .reduce((a, b) -> b).orElseThrow();
        assertEquals("http://h:1/api/inference/job?held=" + SHA, lastPoll[1], "after the job: the model is held");
    }
}
