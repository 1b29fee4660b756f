/*
 * The visitor's iframe. Shows the consent screen; only after the visitor presses Start does it create the node's
 * dedicated Worker (browser-node, Java compiled to WebAssembly), which registers, polls for jobs, runs them and
 * submits results. This page only renders the worker's status messages and forwards pause/resume/stop.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var placementId = params.get("placement") || "";
  var worker = null;
  var paused = false;

  function $(id) { return document.getElementById(id); }

  function show(sectionId) {
    ["consent", "session", "declined"].forEach(function (id) { $(id).hidden = id !== sectionId; });
  }

  function showMessage(text) {
    var el = $("message");
    el.textContent = text || "";
    el.hidden = !text;
  }

  /** Integer micro-USDC to a decimal string, without floating point. */
  function formatMicroUsdc(micro) {
    if (typeof micro !== "number" || !isFinite(micro)) { return "0.000000"; }
    var negative = micro < 0;
    var digits = String(Math.abs(Math.trunc(micro)));
    while (digits.length < 7) { digits = "0" + digits; }
    var whole = digits.slice(0, digits.length - 6);
    var frac = digits.slice(digits.length - 6);
    return (negative ? "-" : "") + whole + "." + frac;
  }

  function wasmSimdSupported() {
    try {
      // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — validates only with SIMD.
      return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
        10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]));
    } catch (e) {
      return false;
    }
  }

  function detectCapabilities() {
    return {
      webgpu: typeof navigator.gpu !== "undefined",
      wasm_simd: wasmSimdSupported(),
      threads: self.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined",
      cores: navigator.hardwareConcurrency || 1,
      device_memory_gb: navigator.deviceMemory || 0
    };
  }

  var STATE_TEXT = {
    registering: "Connecting to the network…",
    idle: "Waiting for a job…",
    downloading: "Downloading the model…",
    running: "Running a job…",
    submitting: "Submitting the result…",
    paused: "Paused. Nothing is running.",
    stopped: "Stopped. Nothing is running.",
    error: "Something went wrong; retrying."
  };

  function onStatus(status) {
    if (!status || status.type !== "status") { return; }
    $("state").textContent = STATE_TEXT[status.state] || status.state;
    $("state").setAttribute("data-state", status.state);
    if (typeof status.jobs_completed === "number") { $("jobs-completed").textContent = String(status.jobs_completed); }
    if (typeof status.balance_micro_usdc === "number") {
      $("balance").textContent = formatMicroUsdc(status.balance_micro_usdc);
      $("balance").setAttribute("data-micro-usdc", String(status.balance_micro_usdc));
    }
    if (typeof status.last_payout_micro_usdc === "number" && status.last_payout_micro_usdc > 0) {
      $("last-payout").textContent = formatMicroUsdc(status.last_payout_micro_usdc) + " USDC";
    }
    if (status.engine) { $("engine").textContent = status.engine; }
    if (status.session_id) { $("session-id").textContent = status.session_id; }
    showMessage(status.state === "error" ? (status.message || STATE_TEXT.error) : "");
  }

  function start() {
    show("session");
    showMessage("");
    if (!placementId) {
      showMessage("This widget was embedded without a placement id, so it cannot start.");
      return;
    }
    // Refuse politely when the placement is paused or suspended, or this page is framed by a site the placement
    // is not verified for (the backend's frame-ancestors policy blocks that too; this is the visible answer).
    var parent = window.location.ancestorOrigins && window.location.ancestorOrigins.length > 0
        ? window.location.ancestorOrigins[0] : "";
    fetch("/api/placements/" + encodeURIComponent(placementId) + "/widget-config" +
        (parent ? "?origin=" + encodeURIComponent(parent) : ""), {credentials: "omit"})
      .then(function (r) {
        return r.ok ? r.json() : {status: "unknown", message: "This placement does not exist, so nothing will run."};
      })
      .then(function (cfg) {
        if (cfg.status !== "active" || cfg.origin_allowed === false) {
          $("state").textContent = "Not started.";
          $("state").setAttribute("data-state", "refused");
          $("pause-toggle").disabled = true;
          $("stop").disabled = true;
          showMessage(cfg.message || "Earn Idle is not available here, so nothing will run.");
          return;
        }
        startWorker();
      }, function () { showMessage("Earn Idle cannot be reached right now, so nothing is running."); });
  }

  function startWorker() {
    worker = new Worker("/node/node-worker.js");
    worker.onmessage = function (event) { onStatus(event.data); };
    worker.onerror = function (event) {
      showMessage("The compute worker failed to start: " + (event.message || "unknown error"));
    };
    worker.postMessage({
      type: "start",
      apiBase: window.location.origin,
      placementId: placementId,
      capabilities: detectCapabilities(),
      limits: {cpu_share: 0.5, gpu: false, memory_mb: 1024, bandwidth_kbps: 512}
    });
  }

  function togglePause() {
    if (!worker) { return; }
    paused = !paused;
    worker.postMessage({type: paused ? "pause" : "resume"});
    $("pause-toggle").textContent = paused ? "Resume" : "Pause";
  }

  function stop() {
    if (!worker) { return; }
    worker.postMessage({type: "stop"});
    // The worker finishes (or abandons before submitting) its current step, then we end it for good.
    var w = worker;
    worker = null;
    setTimeout(function () { w.terminate(); }, 1000);
    $("pause-toggle").disabled = true;
    $("stop").disabled = true;
    $("state").textContent = STATE_TEXT.stopped;
    $("state").setAttribute("data-state", "stopped");
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("consent-accept").addEventListener("click", start);
    $("consent-decline").addEventListener("click", function () { show("declined"); });
    $("reconsider").addEventListener("click", function () { show("consent"); });
    $("pause-toggle").addEventListener("click", togglePause);
    $("stop").addEventListener("click", stop);
  });
})();
