// Earn Idle browser node worker. The page posts {type:"start", apiBase, placementId, capabilities, limits},
// later {type:"pause"|"resume"|"stop"}. The node loop itself is Java compiled to WebAssembly GC by TeaVM
// (app.wasm); it posts {type:"status", ...} messages back to the page.
"use strict";
importScripts("app.wasm-runtime.js");

var nodeExports = null;
var loading = false;
var pendingControls = [];

function workerStatus(state, message) {
  self.postMessage({
    type: "status", state: state, session_id: null, jobs_completed: 0, balance_micro_usdc: 0,
    last_payout_micro_usdc: 0, engine: "jvm-wasm-gc", job_id: null, message: message
  });
}

self.onmessage = function (event) {
  var msg = event.data || {};
  if (msg.type === "start") {
    if (loading || nodeExports) {
      return;
    }
    loading = true;
    TeaVM.wasmGC.load("app.wasm").then(function (teavm) {
      var ex = teavm.exports;
      if (typeof ex.startNode !== "function" && teavm.instance) {
        ex = teavm.instance.exports;
      }
      if (typeof ex.main === "function") {
        ex.main([]);
      }
      nodeExports = ex;
      nodeExports.startNode(JSON.stringify(msg));
      pendingControls.forEach(function (t) { nodeExports.controlNode(t); });
      pendingControls = [];
    }).catch(function (e) {
      loading = false;
      workerStatus("error", "could not start the WebAssembly node: " + (e && e.message ? e.message : String(e)));
    });
  } else if (msg.type === "pause" || msg.type === "resume" || msg.type === "stop") {
    if (nodeExports) {
      nodeExports.controlNode(msg.type);
    } else {
      pendingControls.push(msg.type);
    }
  }
};
