// Earn Idle browser node worker. The page posts {type:"start", apiBase, placementId, capabilities, limits,
// walletToken}, later {type:"pause"|"resume"|"stop"}, {type:"limits", limits}, {type:"visibility", visible},
// {type:"power", on_battery} and {type:"link", wallet_token} (docs/widget.md, "Worker ↔ widget page messages, v2").
// The node loop itself is Java compiled to WebAssembly GC by TeaVM (app.wasm); it posts {type:"status", ...}
// messages back to the page.
// Work is cut into short slices with yields between them, so these messages are handled within milliseconds.
"use strict";
importScripts("app.wasm-runtime.js");

var nodeExports = null;
var loading = false;
var pendingControls = [];
var CONTROL_TYPES = ["pause", "resume", "stop", "limits", "visibility", "power", "link"];

function workerStatus(state, message) {
  self.postMessage({
    type: "status", state: state, session_id: null, jobs_completed: 0, balance_micro_usdc: 0,
    pending_micro_usdc: 0, last_payout_micro_usdc: 0, engine: "jvm-wasm-gc", job_id: null, message: message,
    progress: null, download: null, tokens_per_s: null, busy_fraction: 0, paused_reason: null
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
      // controls that arrived while app.wasm loaded (e.g. visibility) apply before the node starts working
      var early = pendingControls;
      pendingControls = [];
      nodeExports.startNode(JSON.stringify(msg));
      early.forEach(function (json) { nodeExports.controlNode(json); });
    }).catch(function (e) {
      loading = false;
      workerStatus("error", "could not start the WebAssembly node: " + (e && e.message ? e.message : String(e)));
    });
  } else if (CONTROL_TYPES.indexOf(msg.type) >= 0) {
    var json = JSON.stringify(msg);
    if (nodeExports) {
      nodeExports.controlNode(json);
    } else {
      pendingControls.push(json);
    }
  }
};
