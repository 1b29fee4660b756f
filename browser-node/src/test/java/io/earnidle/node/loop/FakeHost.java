package io.earnidle.node.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A deterministic single-threaded host with a virtual clock: scheduled tasks run in due-time order when the test
 * pumps them, and each clock read after the first in a task advances the clock by {@link #clockTick}.
 */
class FakeHost implements NodeHost {
    record Task(double due, long seq, Runnable r) {
    }

    final java.util.PriorityQueue<Task> tasks = new java.util.PriorityQueue<>(
            java.util.Comparator.comparingDouble(Task::due).thenComparingLong(Task::seq));
    long seq;
    double now = 1000;
    final List<Long> delays = new ArrayList<>();
    final List<String> statuses = new ArrayList<>();
    final List<String[]> requests = new ArrayList<>(); // method, url, token, key, body
    final List<Double> requestTimes = new ArrayList<>(); // the virtual time of each of requests
    final Map<String, byte[]> cache = new java.util.HashMap<>();
    final List<long[]> streamOpens = new ArrayList<>(); // from byte
    byte[] model;
    int pollsBeforeJob = 2;
    int resultFailures = 2;
    int keyCounter;
    int chunkSize = 1 << 20;
    boolean rangeSupport = true;
    int failReadAfterChunks = -1;
    int gpuProbes;
    int register401;
    /** The answer to lease heartbeats ({@code /api/inference/progress}). */
    int progressCode = 200;
    /** Polls answered 429 (the session's lease cap) before the others. */
    int poll429;
    /** Polls answered 401 session-expired before the others. */
    int poll401;
    /** More fields of the registration response (e.g. ",\"model_challenges\":[...]"). */
    String registrationExtra = "";
    String jobJson = NodeLoopTest.jobJson("\"prompt\":\"Hello world\",\"prompt_ids\":null,\"add_bos\":true", 5);
    /** Virtual time that passes between two clock reads in one task (so work slices have a length). */
    double clockTick;
    final Map<Integer, int[]> streams = new java.util.HashMap<>(); // handle -> {offset, reads}
    int nextHandle = 1;

    FakeHost(byte[] model) {
        this.model = model;
    }

    void later(double delay, Runnable r) {
        tasks.add(new Task(now + delay, seq++, r));
    }

    @Override
    public void request(String method, String fullUrl, String token, String key, String body, HttpCallback cb) {
        requests.add(new String[] {method, fullUrl, token, key, body});
        requestTimes.add(now);
        String url = path(fullUrl);
        if (url.endsWith("/api/nodes") && register401 > 0) {
            register401--;
            later(0, () -> cb.done(401, "{\"type\":\"unauthorized\"}"));
        } else if (url.endsWith("/api/nodes")) {
            later(0, () -> cb.done(201, "{\"session_id\":\"ns_1\",\"session_token\":\"nst_1\","
                    + "\"placement_id\":\"p\",\"poll_interval_ms\":1000" + registrationExtra + "}"));
        } else if (url.endsWith("/api/nodes/me/models")) {
            later(0, () -> cb.done(200, "{\"proofs\":[]}"));
        } else if (url.endsWith("/api/inference/job") && poll401 > 0) {
            poll401--;
            later(0, () -> cb.done(401, "{\"type\":\"https://earnidle.io/problems/session-expired\"}"));
        } else if (url.endsWith("/api/inference/job") && poll429 > 0) {
            poll429--;
            later(0, () -> cb.done(429, "{\"type\":\"https://earnidle.io/problems/lease-cap\"}"));
        } else if (url.endsWith("/api/inference/progress")) {
            int code = progressCode;
            later(0, () -> cb.done(code, code == 200 ? "{\"lease_expires_at\":\"2030-01-01T00:00:00Z\"}"
                    : "{\"type\":\"https://earnidle.io/problems/conflict\",\"detail\":\"not your lease\"}"));
        } else if (url.endsWith("/api/inference/failure")) {
            later(0, () -> cb.done(200, "{\"status\":\"queued\"}"));
        } else if (url.endsWith("/api/inference/job")) {
            if (pollsBeforeJob-- > 0) {
                int code = pollsBeforeJob == 0 ? 503 : 204;
                later(0, () -> cb.done(code, ""));
            } else if (pollsBeforeJob == -1) {
                String j = jobJson;
                later(0, () -> cb.done(200, j));
            } else {
                later(0, () -> cb.done(204, ""));
            }
        } else if (url.endsWith("/api/wallets/sessions")) {
            boolean ok = "wt_ok".equals(token);
            later(0, () -> cb.done(ok ? 200 : 401, ok ? "{\"address\":\"0xabc\"}"
                    : "{\"type\":\"https://earnidle.io/problems/unauthorized\",\"detail\":\"unknown wallet token\"}"));
        } else if (url.endsWith("/api/inference/result")) {
            if (resultFailures-- > 0) {
                later(0, () -> cb.done(0, "TypeError: Failed to fetch"));
            } else {
                later(0, () -> cb.done(200, "{\"job_id\":\"job_1\",\"status\":\"accepted\","
                        + "\"payout_micro_usdc\":1130,\"balance_micro_usdc\":2260,\"pending_micro_usdc\":5}"));
            }
        } else {
            later(0, () -> cb.done(404, "{}"));
        }
    }

    @Override
    public void openStream(String url, long fromByte, StreamCallback cb) {
        requests.add(new String[] {"GET", url, null, null, null});
        requestTimes.add(now);
        streamOpens.add(new long[] {fromByte});
        int h = nextHandle++;
        boolean ranged = rangeSupport && fromByte > 0;
        streams.put(h, new int[] {ranged ? (int) fromByte : 0, 0});
        later(0, () -> cb.opened(ranged ? 206 : 200, h, ranged ? fromByte : 0, model.length, null));
    }

    @Override
    public void readStream(int handle, ChunkCallback cb) {
        int[] s = streams.get(handle);
        if (s == null) {
            later(0, () -> cb.chunk(null, "stream closed"));
            return;
        }
        if (failReadAfterChunks >= 0 && s[1] == failReadAfterChunks) {
            failReadAfterChunks = -1;
            streams.remove(handle);
            later(0, () -> cb.chunk(null, "TypeError: network error"));
            return;
        }
        int off = s[0];
        int n = Math.min(chunkSize, model.length - off);
        s[0] += n;
        s[1]++;
        byte[] chunk = n == 0 ? null : java.util.Arrays.copyOfRange(model, off, off + n);
        later(0, () -> cb.chunk(chunk, null));
    }

    @Override
    public void closeStream(int handle) {
        streams.remove(handle);
    }

    @Override
    public void cacheGet(String key, BytesCallback cb) {
        byte[] b = cache.get(key);
        later(0, () -> cb.done(b == null ? 404 : 200, b, null));
    }

    @Override
    public void cachePut(String key, byte[] data, DoneCallback cb) {
        cache.clear();
        cache.put(key, data.clone());
        later(0, () -> cb.done(true));
    }

    @Override
    public void cacheDelete(String key, DoneCallback cb) {
        boolean had = cache.remove(key) != null;
        later(0, () -> cb.done(had));
    }

    @Override
    public void probeGpu(DoneCallback cb) {
        gpuProbes++;
        later(0, () -> cb.done(false));
    }

    @Override
    public void schedule(long delayMs, Runnable task) {
        delays.add(delayMs);
        later(delayMs, task);
    }

    int readsInTask;

    /** The first clock read of a task costs nothing; each later one {@link #clockTick} (the work between them). */
    @Override
    public double nowMs() {
        if (readsInTask++ > 0) {
            now += clockTick;
        }
        return now;
    }

    @Override
    public void postStatus(String json) {
        statuses.add(json);
    }

    @Override
    public String newIdempotencyKey() {
        return "key-" + (++keyCounter);
    }

    @Override
    public long randomSeed() {
        return 3;
    }

    @Override
    public String engine() {
        return "test";
    }

    void pump(int max) {
        for (int i = 0; i < max && !tasks.isEmpty(); i++) {
            Task t = tasks.poll();
            now = Math.max(now, t.due());
            readsInTask = 0;
            t.r().run();
        }
    }

    /** Runs tasks until the virtual clock passes {@code ms} from now. */
    void runFor(double ms) {
        double until = now + ms;
        while (!tasks.isEmpty() && tasks.peek().due() <= until) {
            Task t = tasks.poll();
            now = Math.max(now, t.due());
            readsInTask = 0;
            t.r().run();
        }
        now = Math.max(now, until);
    }

    List<String> states() {
        List<String> s = new ArrayList<>();
        for (String j : statuses) {
            s.add((String) Json.obj(Json.parse(j), "status").get("state"));
        }
        return s;
    }

    Map<String, Object> lastStatus() {
        return Json.obj(Json.parse(statuses.get(statuses.size() - 1)), "status");
    }

    long count(String urlSuffix) {
        return requests.stream().filter(r -> path(r[1]).endsWith(urlSuffix)).count();
    }

    /** The URL without its query. */
    static String path(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    @Override
    public void cachedKeys(KeysCallback cb) {
        List<String> keys = new ArrayList<>(cache.keySet());
        later(0, () -> cb.keys(keys));
    }
}
