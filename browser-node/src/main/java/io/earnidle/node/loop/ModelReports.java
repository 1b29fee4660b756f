package io.earnidle.node.loop;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the node reports for dispatch (docs/protocol.md, docs/trust.md): the engines it can run, and the model files it
 * holds (their SHA-256) — at registration ({@code engines}, {@code models_held}) and with every poll
 * ({@code ?held=}). The backend takes no claim on trust: for each held file it asks for the SHA-256 of a byte range
 * it chose ({@code model_challenges}), which this class answers from the persistent cache
 * ({@code POST /api/nodes/me/models}).
 */
final class ModelReports {
    private final NodeHost host;
    private final String apiBase;
    /** sha256 -> persistent-cache key of the files held (the cache keeps one model). */
    private final Map<String, String> held = new LinkedHashMap<>();

    ModelReports(NodeHost host, String apiBase) {
        this.host = host;
        this.apiBase = apiBase;
    }

    /** The engines to report: WebGPU (when the page found it and the visitor allows the GPU), WASM SIMD, pure Java. */
    static List<String> engines(Object capabilities, boolean gpuAllowed, String javaEngine) {
        List<String> out = new ArrayList<>();
        Map<?, ?> caps = capabilities instanceof Map<?, ?> m ? m : Map.of();
        if (Boolean.TRUE.equals(caps.get("webgpu")) && gpuAllowed) {
            out.add("webgpu");
        }
        if (Boolean.TRUE.equals(caps.get("wasm_simd"))) {
            out.add("wasm-simd");
        }
        out.add(javaEngine);
        return out;
    }

    /** Reads which model files the persistent cache holds, then runs {@code done}. */
    void listCache(Runnable done) {
        String prefix = apiBase + NodeLoop.CACHE_PATH;
        host.cachedKeys(keys -> {
            for (String key : keys) {
                String sha = key.substring(key.lastIndexOf('/') + 1);
                if (key.startsWith(prefix) && sha.matches("[0-9a-f]{64}")) {
                    held.put(sha, key);
                }
            }
            done.run();
        });
    }

    /** The node now holds the file {@code sha256} (fetched into memory, and into the one-model cache). */
    void holds(String modelId, String sha256) {
        if (sha256 != null) {
            held.clear();
            held.put(sha256, ModelFetcher.cacheKey(apiBase, modelId, sha256));
        }
    }

    List<String> held() {
        return new ArrayList<>(held.keySet());
    }

    /** The poll's query: {@code ?held=<sha256>,...}, or nothing while no file is held. */
    String pollQuery() {
        return held.isEmpty() ? "" : "?held=" + String.join(",", held.keySet());
    }

    /**
     * Answers the registration's {@code model_challenges} (a list of {sha256, offset, length}) from the cache, one file
     * after another, in one {@code POST /api/nodes/me/models}; {@code status} gets a line for the node's status.
     */
    void answer(Object challenges, String sessionToken, Consumer<String> status) {
        if (!(challenges instanceof List<?> list) || list.isEmpty()) {
            return;
        }
        answerFrom(list, 0, new ArrayList<>(), sessionToken, status);
    }

    private void answerFrom(List<?> challenges, int i, List<Object> proofs, String token, Consumer<String> status) {
        if (i == challenges.size()) {
            if (proofs.isEmpty()) {
                return;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("proofs", proofs);
            host.request("POST", apiBase + "/api/nodes/me/models", token, null, Json.write(body), (code, text) ->
                    status.accept(code == 200 ? "model files proved to the backend"
                            : "proving model files failed: " + NodeLoop.describe(code, text)));
            return;
        }
        Map<String, Object> c;
        String key;
        long offset;
        long length;
        try {
            c = Json.obj(challenges.get(i), "challenge");
            key = held.get(Json.str(c, "sha256"));
            offset = Json.integer(c, "offset");
            length = Json.integer(c, "length");
        } catch (RuntimeException e) {
            answerFrom(challenges, i + 1, proofs, token, status);
            return;
        }
        if (key == null) {
            answerFrom(challenges, i + 1, proofs, token, status);
            return;
        }
        host.cacheGet(key, (code, data, error) -> {
            if (code == 200 && data != null && offset >= 0 && length >= 0 && offset + length <= data.length) {
                Sha256 h = new Sha256();
                h.update(data, (int) offset, (int) length);
                Map<String, Object> proof = new LinkedHashMap<>();
                proof.put("sha256", c.get("sha256"));
                proof.put("range_sha256", h.hexDigest());
                proofs.add(proof);
            }
            answerFrom(challenges, i + 1, proofs, token, status);
        });
    }
}
