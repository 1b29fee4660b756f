package io.earnidle.node.loop;

/** What the node loop needs from its platform (the browser worker, or a test double on the JVM). */
public interface NodeHost {
    /** {@code status} is the HTTP status, or 0 for a network error (then {@code body} describes it). */
    interface HttpCallback {
        void done(int status, String body);
    }

    /** {@code data} is null unless {@code status} is 200. */
    interface BytesCallback {
        void done(int status, byte[] data, String error);
    }

    void request(String method, String url, String bearerToken, String idempotencyKey, String body, HttpCallback cb);

    void fetchBytes(String url, BytesCallback cb);

    void schedule(long delayMs, Runnable task);

    void postStatus(String statusJson);

    /** A fresh random UUID string for an Idempotency-Key. */
    String newIdempotencyKey();

    /** A random seed for backoff jitter. */
    long randomSeed();

    /** Engine name reported with results, e.g. "jvm-wasm-gc". */
    String engine();
}
