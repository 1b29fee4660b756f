#!/usr/bin/env node
// Our WebGPU engine outside the browser: Node 22+ (WebAssembly GC, for the TeaVM node) with Dawn's Node bindings
// (npm `webgpu`, the WebGPU implementation Chromium itself uses, with the same WGSL compiler, Tint). For machines
// that have a GPU but no browser (a rented GPU box). It runs the node's own code unchanged: infer-worker.js's
// sequence (TeaVM runtime, cpu-glue.js, app.wasm, runInference) over the built web/node and web/kernels folders,
// with the few worker globals the engine touches provided here (self, location, importScripts, postMessage,
// navigator.gpu, and fetch for file: URLs, which Node's fetch lacks).
//   node22 dawn-infer.mjs --web DIR --model FILE.gguf --request JSON [--logits-out FILE] [--dawn FILE.node]
//     [--dawn-flag K=V]...
//   DIR holds node/ (browser-node's target/classes/web/node) and kernels/ (webgpu-kernels' .../web/kernels).
// Prints one JSON line like `earnidle infer --engine webgpu` (engine, model, prompt_ids, ids, text, load_ms,
// prefill_ms, decode_ms, decode_tokens_per_s, counters) plus runtime and adapter; exit 1 with {"error"} on failure.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const a = { dawnFlags: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    switch (k) {
      case "--web": a.web = path.resolve(v()); break;
      case "--model": a.model = path.resolve(v()); break;
      case "--request": a.request = JSON.parse(v()); break;
      case "--logits-out": a.logitsOut = path.resolve(v()); break;
      case "--dawn": a.dawn = path.resolve(v()); break;
      case "--dawn-flag": a.dawnFlags.push(v()); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  for (const k of ["web", "model", "request"]) if (!a[k]) throw new Error(`--${k} is required`);
  for (const d of ["node/app.wasm", "node/engine/webgpu-engine.js", "kernels/runner.js", "kernels/formats.js",
    "kernels/preprocess.js", "kernels/device.js", "kernels/batch.js", "kernels/llama-layers.js"]) {
    if (!fs.existsSync(path.join(a.web, d))) throw new Error(`--web ${a.web}: ${d} is missing (build the project first)`);
  }
  if (!fs.statSync(a.model, { throwIfNoEntry: false })?.isFile()) throw new Error(`model file ${a.model} does not exist`);
  return a;
}

const MIME = { ".wasm": "application/wasm", ".js": "text/javascript", ".wgsl": "text/plain", ".json": "application/json" };

/** fetch for file: URLs (the kernels' WGSL, the model); everything else goes to Node's own fetch. */
function fileFetch(base, nodeFetch) {
  return async (input, init) => {
    const u = new URL(typeof input === "string" || input instanceof URL ? String(input) : input.url, base);
    if (u.protocol !== "file:") return nodeFetch(u, init);
    const p = fileURLToPath(u);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile()) return new Response("not found", { status: 404 });
    return new Response(Readable.toWeb(fs.createReadStream(p, { highWaterMark: 4 << 20 })), {
      status: 200,
      headers: { "Content-Length": String(st.size), "Content-Type": MIME[path.extname(p)] || "application/octet-stream" },
    });
  };
}

/** EARNIDLE_DAWN_TRACE=1: submits and buffer maps on stderr with times, to find where a run stalls. */
function traceGpuCalls(g) {
  const t0 = performance.now(), t = () => (performance.now() - t0).toFixed(1).padStart(9);
  let submits = 0;
  const submit = g.GPUQueue.prototype.submit;
  g.GPUQueue.prototype.submit = function (bufs) {
    if (++submits <= 20 || submits % 100 === 0) process.stderr.write(`${t()} ms submit #${submits}\n`);
    return submit.call(this, bufs);
  };
  const mapAsync = g.GPUBuffer.prototype.mapAsync;
  g.GPUBuffer.prototype.mapAsync = function (...a) {
    const n = submits;
    return mapAsync.apply(this, a).then((v) => {
      if (n <= 20 || n % 100 === 0) process.stderr.write(`${t()} ms mapped after submit #${n}\n`);
      return v;
    });
  };
}

export async function dawnInfer(opts) {
  // the npm package (its wrapper around dawn.node), or a bare dawn.node given with --dawn
  const dawn = opts.dawn ? require(opts.dawn) : await import("webgpu");
  const workerUrl = pathToFileURL(path.join(opts.web, "node/infer-worker.js"));
  globalThis.self = globalThis;
  Object.defineProperty(globalThis, "location", { value: { href: workerUrl.href }, configurable: true });
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, GPUShaderStage, ...
  const gpu = dawn.create(opts.dawnFlags);
  Object.defineProperty(globalThis.navigator, "gpu", { value: gpu, configurable: true });
  globalThis.fetch = fileFetch(workerUrl, globalThis.fetch);
  if (process.env.EARNIDLE_DAWN_TRACE) traceGpuCalls(dawn.globals);
  globalThis.importScripts = (...urls) => {
    for (const u of urls) {
      const p = fileURLToPath(new URL(u, workerUrl));
      vm.runInThisContext(fs.readFileSync(p, "utf8"), { filename: p,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    }
  };
  // the adapter the engine will get (it asks navigator.gpu.requestAdapter() with no options, as in a page)
  const probe = await gpu.requestAdapter();
  const info = probe?.info ?? {};
  const adapter = probe ? { vendor: info.vendor, architecture: info.architecture, device: info.device,
    description: info.description, is_fallback: info.isFallbackAdapter ?? probe.isFallbackAdapter ?? null,
    subgroups: probe.features.has("subgroups"), shader_f16: probe.features.has("shader-f16"),
    subgroup_min_size: info.subgroupMinSize ?? null, subgroup_max_size: info.subgroupMaxSize ?? null } : null;

  const resultJson = await new Promise((resolve, reject) => {
    globalThis.postMessage = (m) => { if (m && m.type === "infer-result") resolve(m.json); };
    importScripts("app.wasm-runtime.js", "engine/cpu-glue.js");
    globalThis.TeaVM.wasmGC.load(path.join(opts.web, "node/app.wasm")).then((teavm) => {
      let ex = teavm.exports;
      if (typeof ex.runInference !== "function" && teavm.instance) ex = teavm.instance.exports;
      if (typeof ex.main === "function") ex.main([]);
      ex.runInference(JSON.stringify({ ...opts.request, model_url: pathToFileURL(opts.model).href }));
    }).catch(reject);
  });
  const r = JSON.parse(resultJson);
  if (r.error) throw new Error(r.error);
  const logits = r.logits;
  delete r.logits;
  if (opts.logitsOut) {
    if (!Array.isArray(logits)) throw new Error("the engine returned no logits (set \"logits\": true in the request)");
    fs.writeFileSync(opts.logitsOut, JSON.stringify(logits) + "\n");
  }
  const { engine, ...rest } = r;
  return { engine, model: opts.model, runtime: `node ${process.version} + dawn.node (npm webgpu)`, adapter, ...rest };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: `usage: ${e.message}` }) + "\n");
    process.exit(2);
  }
  dawnInfer(opts).then((o) => {
    process.stdout.write(JSON.stringify(o) + "\n");
    process.exit(0); // Dawn keeps the event loop alive
  }, (e) => {
    process.stdout.write(JSON.stringify({ error: String(e && e.message ? e.message : e) }) + "\n");
    process.exit(1);
  });
}
