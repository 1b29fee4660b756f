package io.earnidle.node.browser;

import io.earnidle.node.browser.engine.BrowserEngines;
import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.loop.NodeHost;
import io.earnidle.node.loop.NodeLoop;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;
import org.teavm.jso.typedarrays.Int8Array;

import java.util.List;

/**
 * {@link NodeHost} on top of the Web Worker global scope: fetch (streamed bodies with Range), Cache Storage,
 * setTimeout and a MessageChannel for zero-delay yields, performance.now, postMessage, crypto, navigator.gpu (only
 * asked when the loop allows the GPU), and the accelerated engines ({@link BrowserEngines}: WebGPU, WASM SIMD).
 */
final class BrowserHost implements NodeHost {
    static final String ENGINE = "jvm-wasm-gc";

    @JSFunctor
    interface JsTextCallback extends JSObject {
        void done(int status, String body);
    }

    @JSFunctor
    interface JsBytesCallback extends JSObject {
        void done(int status, Int8Array data, String error);
    }

    @JSFunctor
    interface JsTimerCallback extends JSObject {
        void run();
    }

    @JSBody(params = {"method", "url", "token", "key", "body", "cb"}, script = """
            var h = {};
            if (token) { h['Authorization'] = 'Bearer ' + token; }
            if (key) { h['Idempotency-Key'] = key; }
            var init = {method: method, headers: h, cache: 'no-store'};
            if (body) { h['Content-Type'] = 'application/json'; init.body = body; }
            fetch(url, init).then(function (r) {
                return r.text().then(function (t) { cb(r.status, t); });
            }, function (e) { cb(0, String(e)); });
            """)
    private static native void fetchText(String method, String url, String token, String key, String body,
                                         JsTextCallback cb);

    @JSFunctor
    interface JsStreamCallback extends JSObject {
        void opened(int status, int handle, double startOffset, double totalBytes, String error);
    }

    @JSFunctor
    interface JsChunkCallback extends JSObject {
        void chunk(Int8Array data, String error);
    }

    @JSFunctor
    interface JsDoneCallback extends JSObject {
        void done(boolean ok);
    }

    @JSBody(params = {"url", "from", "cb"}, script = """
            var h = {};
            if (from > 0) { h['Range'] = 'bytes=' + from + '-'; }
            fetch(url, {headers: h, cache: 'no-store'}).then(function (r) {
                if ((r.status !== 200 && r.status !== 206) || !r.body) {
                    try { if (r.body) { r.body.cancel(); } } catch (e) { }
                    cb(r.status, -1, 0, -1, 'HTTP ' + r.status);
                    return;
                }
                var start = 0, total = -1;
                if (r.status === 206) {
                    var m = /bytes\\s+(\\d+)-(\\d+)\\/(\\d+|\\*)/.exec(r.headers.get('Content-Range') || '');
                    if (!m) { r.body.cancel(); cb(0, -1, 0, -1, 'bad Content-Range'); return; }
                    start = Number(m[1]);
                    total = m[3] === '*' ? -1 : Number(m[3]);
                } else {
                    var cl = r.headers.get('Content-Length');
                    total = cl ? Number(cl) : -1;
                }
                var S = self.__eiStreams || (self.__eiStreams = {next: 1, map: {}});
                var id = S.next++;
                S.map[id] = r.body.getReader();
                cb(r.status, id, start, total, '');
            }, function (e) { cb(0, -1, 0, -1, String(e)); });
            """)
    private static native void openStreamJs(String url, double from, JsStreamCallback cb);

    @JSBody(params = {"id", "cb"}, script = """
            var S = self.__eiStreams, rd = S && S.map[id];
            if (!rd) { cb(null, 'stream closed'); return; }
            rd.read().then(function (x) {
                if (x.done) { delete S.map[id]; cb(null, ''); return; }
                var v = x.value;
                cb(new Int8Array(v.buffer, v.byteOffset, v.byteLength), '');
            }, function (e) { delete S.map[id]; cb(null, String(e) || 'read failed'); });
            """)
    private static native void readStreamJs(int id, JsChunkCallback cb);

    @JSBody(params = {"id"}, script = """
            var S = self.__eiStreams, rd = S && S.map[id];
            if (rd) { delete S.map[id]; rd.cancel().catch(function () { }); }
            """)
    private static native void closeStreamJs(int id);

    @JSBody(params = {"key", "cb"}, script = """
            if (!self.caches) { cb(404, null, 'no Cache Storage'); return; }
            caches.open('earnidle-models-v1').then(function (c) { return c.match(key); }).then(function (r) {
                if (!r) { cb(404, null, ''); return; }
                return r.arrayBuffer().then(function (b) { cb(200, new Int8Array(b), ''); });
            }).catch(function (e) { cb(0, null, String(e)); });
            """)
    private static native void cacheGetJs(String key, JsBytesCallback cb);

    @JSBody(params = {"key", "prefix", "data", "cb"}, script = """
            if (!self.caches) { cb(false); return; }
            caches.open('earnidle-models-v1').then(function (c) {
                return c.keys().then(function (ks) {
                    return Promise.all(ks.filter(function (k) { return k.url.indexOf(prefix) >= 0 && k.url !== key; })
                        .map(function (k) { return c.delete(k); }));
                }).then(function () {
                    return c.put(key, new Response(data, {headers: {'Content-Type': 'application/octet-stream'}}));
                });
            }).then(function () { cb(true); }, function () { cb(false); });
            """)
    private static native void cachePutJs(String key, String prefix, Int8Array data, JsDoneCallback cb);

    @JSBody(params = {"key", "cb"}, script = """
            if (!self.caches) { cb(false); return; }
            caches.open('earnidle-models-v1').then(function (c) { return c.delete(key); })
                .then(function (d) { cb(!!d); }, function () { cb(false); });
            """)
    private static native void cacheDeleteJs(String key, JsDoneCallback cb);

    @JSBody(params = {"cb"}, script = """
            if (!self.caches) { cb(200, ''); return; }
            caches.open('earnidle-models-v1').then(function (c) { return c.keys(); }).then(function (ks) {
                cb(200, ks.map(function (k) { return k.url; }).join('\\n'));
            }, function () { cb(200, ''); });
            """)
    private static native void cachedKeysJs(JsTextCallback cb);

    @JSBody(params = {"cb"}, script = """
            var g = self.navigator && self.navigator.gpu;
            if (!g || typeof g.requestAdapter !== 'function') { cb(false); return; }
            g.requestAdapter().then(function (a) { cb(!!a); }, function () { cb(false); });
            """)
    private static native void probeGpuJs(JsDoneCallback cb);

    @JSBody(params = {"cb"}, script = """
            var Y = self.__eiYield;
            if (!Y) {
                Y = self.__eiYield = {q: [], ch: new MessageChannel()};
                Y.ch.port1.onmessage = function () { var f = Y.q.shift(); if (f) { f(); } };
            }
            Y.q.push(cb);
            Y.ch.port2.postMessage(0);
            """)
    private static native void yieldJs(JsTimerCallback cb);

    @JSBody(params = {"ms", "cb"}, script = "setTimeout(function () { cb(); }, ms);")
    private static native void setTimeout(int ms, JsTimerCallback cb);

    @JSBody(script = "return self.performance ? self.performance.now() : Date.now();")
    private static native double now();

    @JSBody(params = {"json"}, script = "self.postMessage(JSON.parse(json));")
    static native void postMessageJson(String json);

    @JSBody(script = """
            if (self.crypto && typeof self.crypto.randomUUID === 'function') { return self.crypto.randomUUID(); }
            var b = new Uint8Array(16);
            self.crypto.getRandomValues(b);
            b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
            var s = '';
            for (var i = 0; i < 16; i++) {
                s += (b[i] + 0x100).toString(16).substring(1);
                if (i === 3 || i === 5 || i === 7 || i === 9) { s += '-'; }
            }
            return s;
            """)
    private static native String randomUuid();

    @JSBody(script = "return Math.floor(Math.random() * 9007199254740991);")
    private static native double randomDouble();

    @Override
    public void request(String method, String url, String bearerToken, String idempotencyKey, String body,
                        HttpCallback cb) {
        fetchText(method, url, bearerToken == null ? "" : bearerToken, idempotencyKey == null ? "" : idempotencyKey,
                body == null ? "" : body, (status, text) -> cb.done(status, text));
    }

    @Override
    public void openStream(String url, long fromByte, StreamCallback cb) {
        openStreamJs(url, fromByte, (status, handle, startOffset, totalBytes, error) ->
                cb.opened(status, handle, (long) startOffset, (long) totalBytes, error));
    }

    @Override
    public void readStream(int handle, ChunkCallback cb) {
        readStreamJs(handle, (data, error) -> cb.chunk(data == null ? null : data.copyToJavaArray(),
                error == null || error.isEmpty() ? null : error));
    }

    @Override
    public void closeStream(int handle) {
        closeStreamJs(handle);
    }

    @Override
    public void cacheGet(String key, BytesCallback cb) {
        cacheGetJs(key, (status, data, error) -> cb.done(status, data == null ? null : data.copyToJavaArray(), error));
    }

    @Override
    public void cachePut(String key, byte[] data, DoneCallback cb) {
        cachePutJs(key, NodeLoop.CACHE_PATH, Int8Array.copyFromJavaArray(data), cb::done);
    }

    @Override
    public void cacheDelete(String key, DoneCallback cb) {
        cacheDeleteJs(key, cb::done);
    }

    /** The Request URLs of the model cache (the keys {@link #cachePut} stored), for the registration's report. */
    @Override
    public void cachedKeys(KeysCallback cb) {
        cachedKeysJs((status, text) -> cb.keys(text == null || text.isEmpty() ? List.of()
                : List.of(text.split("\n"))));
    }

    @Override
    public void probeGpu(DoneCallback cb) {
        probeGpuJs(cb::done);
    }

    @Override
    public void loadEngine(byte[] gguf, List<EngineChoice> candidates, EngineCallback cb) {
        if (candidates.isEmpty()) {
            cb.loaded(null, List.of());
            return;
        }
        // the bytes go to the browser as a Blob and stream into the kernel memory / GPU buffers like a download
        BrowserEngines.loadBytes(candidates, gguf, 0, null, (loaded, error) -> {
            if (loaded == null) {
                cb.loaded(null, List.of(error == null ? "no engine loaded" : error));
            } else {
                cb.loaded(loaded.engine(), loaded.fallbacks());
            }
        });
    }

    @Override
    public double nowMs() {
        return now();
    }

    @Override
    public void schedule(long delayMs, Runnable task) {
        if (delayMs <= 0) {
            yieldJs(task::run);
        } else {
            setTimeout((int) Math.min(delayMs, Integer.MAX_VALUE), task::run);
        }
    }

    @Override
    public void postStatus(String statusJson) {
        postMessageJson(statusJson);
    }

    @Override
    public String newIdempotencyKey() {
        return randomUuid();
    }

    @Override
    public long randomSeed() {
        return (long) randomDouble();
    }

    @Override
    public String engine() {
        return ENGINE;
    }
}
