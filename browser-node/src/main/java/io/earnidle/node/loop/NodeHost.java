package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineChoice;

import java.util.List;

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

    /**
     * A streamed GET was answered: {@code status} 200 (the body is the whole file, {@code startOffset} 0) or 206 (the
     * body starts at {@code startOffset}), any other status or 0 (network error, then {@code error} says why);
     * {@code totalBytes} is the whole file's size when the server said it, else -1. {@code handle} reads the body.
     */
    interface StreamCallback {
        void opened(int status, int handle, long startOffset, long totalBytes, String error);
    }

    /** The next piece of a streamed body: {@code data} null and {@code error} null at the end of the body. */
    interface ChunkCallback {
        void chunk(byte[] data, String error);
    }

    interface DoneCallback {
        void done(boolean ok);
    }

    void request(String method, String url, String bearerToken, String idempotencyKey, String body, HttpCallback cb);

    /** GET {@code url}, from byte {@code fromByte} on (a Range request when it is above 0). */
    void openStream(String url, long fromByte, StreamCallback cb);

    /** Reads the next chunk of an open stream; call again after each chunk (the reader is pull-based). */
    void readStream(int handle, ChunkCallback cb);

    /** Cancels the body of a stream; later reads report nothing. */
    void closeStream(int handle);

    /** The persistent model cache (Cache Storage): status 200 with the bytes, or 404. */
    void cacheGet(String key, BytesCallback cb);

    /** Stores {@code data} under {@code key}, replacing any other model kept there (one model is cached). */
    void cachePut(String key, byte[] data, DoneCallback cb);

    void cacheDelete(String key, DoneCallback cb);

    interface KeysCallback {
        void keys(List<String> keys);
    }

    /**
     * The keys of the persistent model cache (what {@link #cachePut} stored), so the node can report the model files
     * it holds at registration. The default lists none (the node then reports only the files it fetched since).
     */
    default void cachedKeys(KeysCallback cb) {
        cb.keys(List.of());
    }

    /** Asks the platform for a WebGPU adapter; only called when the visitor allows the GPU. */
    void probeGpu(DoneCallback cb);

    /** An engine load ended: {@code engine} null when no candidate could load the model ({@code notes} say why). */
    interface EngineCallback {
        void loaded(Engine engine, List<String> notes);
    }

    /**
     * Loads a verified model file into the first of {@code candidates} (accelerated engines, best first: WebGPU,
     * WASM SIMD) that works; the engine copies the bytes into its own memory, so the caller may drop {@code gguf}
     * afterwards. {@code notes} name the candidates that failed and why. Only asks for a WebGPU adapter when
     * {@code candidates} contains WEBGPU. The default (a platform without accelerated engines) loads nothing: the
     * loop then runs the pure-Java engine on the bytes.
     */
    default void loadEngine(byte[] gguf, List<EngineChoice> candidates,
                            EngineCallback cb) {
        cb.loaded(null, List.of());
    }

    /** Runs {@code task} after {@code delayMs}; 0 yields to the event loop (other messages run first). */
    void schedule(long delayMs, Runnable task);

    /** A monotonic clock in milliseconds (sub-millisecond where the platform has it). */
    double nowMs();

    void postStatus(String statusJson);

    /** A fresh random UUID string for an Idempotency-Key. */
    String newIdempotencyKey();

    /** A random seed for backoff jitter. */
    long randomSeed();

    /** Name of the platform's pure-Java engine ("jvm-wasm-gc" in the browser), reported until a model is loaded. */
    String engine();
}
