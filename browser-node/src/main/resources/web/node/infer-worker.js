// Worker for `earnidle infer --engine wasm|webgpu` and the engine tests: loads the TeaVM node (app.wasm) and runs
// one inference request through the same Java engine code the node uses; posts {type:"infer-result", json}.
"use strict";
importScripts("app.wasm-runtime.js");
importScripts("engine/cpu-glue.js");

self.onmessage = function (event) {
  var req = event.data;
  // optional "simd_relaxed": false forces the plain SIMD128 kernels (the wide path), true the relaxed build
  if (req && typeof req.simd_relaxed === "boolean") self.EarnIdleSimdRelaxed = req.simd_relaxed;
  TeaVM.wasmGC.load("app.wasm").then(function (teavm) {
    var ex = teavm.exports;
    if (typeof ex.runInference !== "function" && teavm.instance) ex = teavm.instance.exports;
    if (typeof ex.main === "function") ex.main([]);
    ex.runInference(JSON.stringify(req));
  }).catch(function (e) {
    self.postMessage({ type: "infer-result", json: JSON.stringify({ error: "worker: " + (e && e.message ? e.message : String(e)) }) });
  });
};
