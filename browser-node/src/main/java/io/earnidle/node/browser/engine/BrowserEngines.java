package io.earnidle.node.browser.engine;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.engine.JvmEngine;
import io.earnidle.node.engine.SimdLlama;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.tokenizer.Tokenizer;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Int8Array;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Loads a model into the best engine the worker has (the node's one hook: {@link #load}): WebGPU when
 * {@code navigator.gpu} gives an adapter and the limits allow the GPU, else the WASM-SIMD kernels, else the pure-Java
 * engine. A candidate that fails to load (no adapter, a tensor type without a kernel, memory) falls through to the
 * next; the reasons are kept in {@link Loaded#fallbacks()}.
 */
public final class BrowserEngines {
    private BrowserEngines() {
    }

    /** The loaded engine and why earlier candidates were skipped ("webgpu: ..."). */
    public record Loaded(Engine engine, List<String> fallbacks) {
    }

    public interface LoadCallback {
        void done(Loaded loaded, String error);
    }

    public interface Progress {
        void bytes(double loaded, double total);
    }

    @JSFunctor
    interface JsProgress extends JSObject {
        void bytes(double loaded, double total);
    }

    @JSFunctor
    interface JsSimdLoaded extends JSObject {
        void done(JSObject glue, int base, double size, Int8Array header, String error);
    }

    @JSFunctor
    interface JsGpuLoaded extends JSObject {
        void done(JSObject engine, double size, Int8Array header, String error);
    }

    @JSFunctor
    interface JsBytes extends JSObject {
        void done(Int8Array data, String error);
    }

    @JSBody(script = "return !!(self.navigator && self.navigator.gpu);")
    public static native boolean webGpuPresent();

    @JSBody(script = """
            try {
              return typeof WebAssembly === 'object' && WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,
                0,1,123,3,2,1,0,10,10,1,8,0,65,0,253,15,253,98,11]));
            } catch (e) { return false; }
            """)
    public static native boolean simdPresent();

    @JSBody(script = """
            if (!self.EarnIdleCpu) { importScripts(new URL('engine/cpu-glue.js', self.location.href).href); }
            """)
    private static native void ensureGlue();

    @JSBody(params = {"threads", "url", "progress", "cb"}, script = """
            self.EarnIdleCpu.load({threads: threads > 0 ? threads : 'auto'}, url, progress).then(function (r) {
                cb(r.glue, r.base, r.size, r.header, null);
            }, function (e) { cb(null, 0, 0, null, String(e && e.message ? e.message : e)); });
            """)
    private static native void loadSimd(int threads, String url, JsProgress progress, JsSimdLoaded cb);

    @JSBody(params = {"maxBinding", "url", "progress", "cb"}, script = """
            import(new URL('engine/webgpu-engine.js', self.location.href).href).then(function (m) {
                return m.createWebGpuEngine({maxBindingBytes: maxBinding > 0 ? maxBinding : undefined});
            }).then(function (e) {
                return e.load(url, progress).then(function (h) { cb(e, e.fileSize, h, null); }, function (err) {
                    try { e.close(); } catch (x) {}
                    throw err;
                });
            }).catch(function (e) { cb(null, 0, null, String(e && e.message ? e.message : e)); });
            """)
    private static native void loadGpu(int maxBinding, String url, JsProgress progress, JsGpuLoaded cb);

    @JSBody(params = {"url", "progress", "cb"}, script = """
            fetch(url).then(function (r) {
                if (!r.ok) { throw new Error('model download failed: HTTP ' + r.status); }
                return r.arrayBuffer();
            }).then(function (b) { progress(b.byteLength, b.byteLength); cb(new Int8Array(b), null); },
                function (e) { cb(null, String(e && e.message ? e.message : e)); });
            """)
    private static native void fetchAll(String url, JsProgress progress, JsBytes cb);

    @JSBody(params = "url", script = "return new URL(url, self.location.href).href;")
    private static native String absolute(String url);

    private static GgufFile header(Int8Array header, double fileSize) {
        byte[] h = header.copyToJavaArray();
        return GgufFile.read(ByteBuffer.wrap(h), (long) fileSize, (offset, length) -> {
            throw new IllegalStateException("tensor bytes live in the kernel memory, not in Java");
        });
    }

    /**
     * Loads {@code url} into the first engine of {@code candidates} that works. Options: {@code threads} for the
     * SIMD kernels (0 = all cores when cross-origin isolated, capped at 4), {@code maxBindingBytes} caps WebGPU
     * bindings (0 = the device limit; tests force LM-head splits with it).
     */
    public static void load(List<EngineChoice> candidates, String url, int threads, int maxBindingBytes,
                            Progress progress, LoadCallback cb) {
        String abs = absolute(url);
        tryNext(candidates, 0, abs, threads, maxBindingBytes, progress, new java.util.ArrayList<>(), cb);
    }

    @JSBody(params = "data", script = "return URL.createObjectURL(new Blob([data]));")
    private static native String blobUrl(Int8Array data);

    @JSBody(params = "url", script = "URL.revokeObjectURL(url);")
    private static native void revoke(String url);

    /**
     * As {@link #load} for a model the caller already holds (the node loop's download/cache path): the bytes are
     * handed to the browser as a Blob and streamed into the engine exactly like a download; the caller should drop
     * its array once the engine is loaded (the engine keeps the weights in kernel memory / GPU buffers).
     */
    public static void loadBytes(List<EngineChoice> candidates, byte[] data, int threads, Progress progress,
                                 LoadCallback cb) {
        String url = blobUrl(Int8Array.copyFromJavaArray(data));
        tryNext(candidates, 0, url, threads, 0, progress, new java.util.ArrayList<>(), (loaded, error) -> {
            revoke(url);
            cb.done(loaded, error);
        });
    }

    private static void tryNext(List<EngineChoice> cands, int i, String url, int threads, int maxBinding,
                                Progress progress, List<String> fallbacks, LoadCallback cb) {
        if (i >= cands.size()) {
            cb.done(null, "no engine could load the model: " + String.join("; ", fallbacks));
            return;
        }
        EngineChoice choice = cands.get(i);
        JsProgress p = (a, b) -> {
            if (progress != null) {
                progress.bytes(a, b);
            }
        };
        Runnable next = () -> tryNext(cands, i + 1, url, threads, maxBinding, progress, fallbacks, cb);
        switch (choice) {
            case WEBGPU -> {
                if (!webGpuPresent()) {
                    fallbacks.add("webgpu: navigator.gpu is missing");
                    next.run();
                    return;
                }
                ensureGlue();
                loadGpu(maxBinding, url, p, (e, size, header, error) -> {
                    Engine engine = null;
                    if (error == null) {
                        try {
                            GgufFile f = header(header, size);
                            Tokenizer tok = Tokenizer.fromGguf(f);
                            engine = new WebGpuEngine(e, LlamaConfig.fromGguf(f, tok.vocabSize()), tok);
                        } catch (RuntimeException ex) {
                            error = String.valueOf(ex.getMessage());
                        }
                    }
                    if (engine == null) {
                        fallbacks.add("webgpu: " + error);
                        next.run();
                    } else {
                        cb.done(new Loaded(engine, fallbacks), null);
                    }
                });
            }
            case WASM_SIMD -> {
                if (!simdPresent()) {
                    fallbacks.add("wasm-simd: WebAssembly SIMD is not supported");
                    next.run();
                    return;
                }
                ensureGlue();
                loadSimd(threads, url, p, (glue, base, size, header, error) -> {
                    Engine engine = null;
                    if (error == null) {
                        try {
                            engine = new SimdLlama(new BrowserSimdKernels(glue), header(header, size), base);
                        } catch (RuntimeException ex) {
                            error = String.valueOf(ex.getMessage());
                        }
                    }
                    if (engine == null) {
                        fallbacks.add("wasm-simd: " + error);
                        next.run();
                    } else {
                        cb.done(new Loaded(engine, fallbacks), null);
                    }
                });
            }
            case JVM -> fetchAll(url, p, (data, error) -> {
                Engine engine = null;
                if (error == null) {
                    try {
                        engine = new JvmEngine(LlamaModel.load(ByteBuffer.wrap(data.copyToJavaArray())), "jvm-wasm-gc");
                    } catch (RuntimeException ex) {
                        error = String.valueOf(ex.getMessage());
                    }
                }
                if (engine == null) {
                    fallbacks.add("jvm-wasm-gc: " + error);
                    next.run();
                } else {
                    cb.done(new Loaded(engine, fallbacks), null);
                }
            });
        }
    }
}
