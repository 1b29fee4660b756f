package io.earnidle.node.loop;

import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.Sampling;

import java.util.List;
import java.util.Map;

/** A job as handed out by GET /api/inference/job, validated. */
public record JobSpec(String jobId, String leaseId, String modelId, String modelUrl, String modelSha256,
                      long modelSizeBytes, String prompt, int[] promptIds, boolean addBos, int maxTokens,
                      Sampling sampling) {

    public static final int MAX_TOKENS_LIMIT = 4096;

    public static JobSpec parse(String json) {
        Map<String, Object> m = Json.obj(Json.parse(json), "job");
        String jobId = nonEmpty(m, "job_id");
        String leaseId = nonEmpty(m, "lease_id");
        Map<String, Object> model = Json.obj(m.get("model"), "model");
        String modelId = nonEmpty(model, "id");
        String url = nonEmpty(model, "url");
        String sha = Json.optStr(model, "sha256");
        if (sha != null && !isHex64(sha)) {
            throw new IllegalArgumentException("model.sha256 must be 64 hex digits");
        }
        long size = model.get("size_bytes") == null ? -1 : Json.integer(model, "size_bytes");
        if (model.get("size_bytes") != null && (size < 1 || size > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("model.size_bytes " + size + " out of range");
        }
        String prompt = Json.optStr(m, "prompt");
        int[] ids = null;
        Object pi = m.get("prompt_ids");
        if (pi != null) {
            if (!(pi instanceof List<?> l)) {
                throw new IllegalArgumentException("prompt_ids must be an array");
            }
            ids = new int[l.size()];
            for (int k = 0; k < ids.length; k++) {
                if (!(l.get(k) instanceof Double d) || d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("prompt_ids[" + k + "] must be a non-negative integer");
                }
                ids[k] = (int) (double) d;
            }
            if (ids.length == 0) {
                throw new IllegalArgumentException("prompt_ids must not be empty");
            }
        }
        if ((prompt == null) == (ids == null)) {
            throw new IllegalArgumentException("exactly one of prompt and prompt_ids must be non-null");
        }
        boolean addBos = m.get("add_bos") instanceof Boolean b ? b : prompt != null;
        long maxTokens = Json.integer(m, "max_tokens");
        if (maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) {
            throw new IllegalArgumentException("max_tokens " + maxTokens + " out of range 1.." + MAX_TOKENS_LIMIT);
        }
        Map<String, Object> s = m.get("sampling") == null ? Map.of() : Json.obj(m.get("sampling"), "sampling");
        double temp = Json.num(s, "temperature", 0.0);
        double topK = Json.num(s, "top_k", 0);
        double topP = Json.num(s, "top_p", 1.0);
        double seed = Json.num(s, "seed", 0);
        if (!(temp >= 0 && temp <= 100)) {
            throw new IllegalArgumentException("sampling.temperature " + temp + " out of range 0..100");
        }
        if (!(topK >= 0 && topK <= 1_000_000) || topK != Math.rint(topK)) {
            throw new IllegalArgumentException("sampling.top_k must be an integer >= 0");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("sampling.top_p " + topP + " out of range (0, 1]");
        }
        if (seed != Math.rint(seed) || Math.abs(seed) > 9.007199254740992E15) {
            throw new IllegalArgumentException("sampling.seed must be an integer");
        }
        Sampling sampling = new Sampling((float) temp, (int) topK, (float) topP, (long) seed).withStop(stop(s));
        return new JobSpec(jobId, leaseId, modelId, url, sha == null ? null : sha.toLowerCase(), size, prompt, ids,
                addBos, (int) maxTokens, sampling);
    }

    /** {@code sampling.stop}: up to 4 non-empty stop strings (the OpenAI API's {@code stop}); none when absent. */
    private static List<String> stop(Map<String, Object> sampling) {
        Object v = sampling.get("stop");
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> l) || l.size() > 4) {
            throw new IllegalArgumentException("sampling.stop must be an array of at most 4 strings");
        }
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String str) || str.isEmpty()) {
                throw new IllegalArgumentException("sampling.stop must hold non-empty strings");
            }
            out.add(str);
        }
        return out;
    }

    private static boolean isHex64(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int k = 0; k < 64; k++) {
            if (Character.digit(s.charAt(k), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static String nonEmpty(Map<String, Object> m, String key) {
        String v = Json.str(m, key);
        if (v.isEmpty() || v.length() > 2048) {
            throw new IllegalArgumentException(key + " must be a non-empty string of at most 2048 characters");
        }
        return v;
    }

    public GenerationRequest toRequest() {
        return new GenerationRequest(prompt, promptIds, addBos, maxTokens, sampling);
    }
}
