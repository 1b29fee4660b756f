/*
 * Step 5, the live session: the compute Worker (browser-node, Java compiled to WebAssembly) created only now, its
 * status messages shown, pause / resume / stop, and the visibility and battery signals the visitor's limits use.
 * Messages with the worker follow docs/widget.md ("Worker ↔ widget page messages, v2").
 */
import { $, showError } from "../shared/dom.js";
import { formatMicroUsdc } from "../shared/money.js";
import { S, placementId } from "./state.js";
import { show, postToHost, statusDetail, hostNotice } from "./steps.js";
import { formatBytes, formatDuration, formatReputation } from "./format.js";
import { refreshWallet } from "./payouts.js";

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
  const nav = /** @type {any} */ (navigator);
  return {
    webgpu: typeof nav.gpu !== "undefined",
    wasm_simd: wasmSimdSupported(),
    threads: self.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined",
    cores: navigator.hardwareConcurrency || 1,
    device_memory_gb: nav.deviceMemory || 0
  };
}

/** @type {Record<string, string>} */
const STATE_TEXT = {
  registering: "Connecting to the network…",
  idle: "Waiting for a job…",
  downloading: "Downloading the model…",
  running: "Running a job…",
  submitting: "Submitting the result…",
  paused: "Paused. Nothing is running.",
  stopped: "Stopped. Nothing is running.",
  error: "Something went wrong; retrying."
};
/** @type {Record<string, string>} */
const PAUSE_REASON = {
  visitor: "Paused. Nothing is running.",
  hidden: "Paused while this tab is hidden (your setting).",
  battery: "Paused while on battery (your setting)."
};

/**
 * Micro-USDC into an element, as text and as its data-micro-usdc attribute.
 * @param {string} id
 * @param {number} micro
 */
export function setMicro(id, micro) {
  $(id).textContent = formatMicroUsdc(micro);
  $(id).setAttribute("data-micro-usdc", String(micro));
}

export function startSession() {
  show("session");
  showError("message", "");
  $("session-wallet").textContent = S.verifiedAddress && S.signer ? S.signer.address : "not linked";
  const caps = detectCapabilities();
  $("engine-note").textContent = (caps.threads ? "Multi-threaded WebAssembly" : "Single-threaded WebAssembly"
      + " (this page is not cross-origin isolated)") + "; WebGPU " + (caps.webgpu
      ? (S.limits && S.limits.gpu ? "available and allowed." : "available but switched off by you.")
      : "not available here.");
  startWorker(caps);
}

/** @param {ReturnType<typeof detectCapabilities>} caps */
function startWorker(caps) {
  S.stopped = false;
  S.visitorPaused = false;
  S.lastStatus = {};
  S.sessionStartedAt = Date.now();
  $("pause-toggle").disabled = false;
  $("pause-toggle").textContent = "Pause";
  $("pause-toggle").setAttribute("aria-pressed", "false");
  $("stop").disabled = false;
  $("stop").textContent = "Stop";
  setState("registering");
  const w = new Worker("/node/node-worker.js");
  S.worker = w;
  w.onmessage = (event) => { if (S.worker === w) { onStatus(event.data); } };
  w.onerror = (event) => {
    showError("message", "The compute worker failed to start: " + (event.message || "unknown error"));
  };
  w.postMessage({
    type: "start",
    apiBase: window.location.origin,
    placementId,
    capabilities: caps || detectCapabilities(),
    limits: S.limits,
    walletToken: S.walletToken
  });
  sendVisibility();
  watchBattery();
}

/**
 * @param {string} state
 * @param {string | null} [text]
 */
function setState(state, text) {
  S.state = state;
  $("state").textContent = text || STATE_TEXT[state] || state;
  $("state").setAttribute("data-state", state);
  postToHost("status", statusDetail());
}

/** @param {any} st a status message of the worker */
function onStatus(st) {
  if (!st || st.type !== "status") { return; }
  S.lastStatus = st;
  let text = st.state === "paused" && st.paused_reason ? PAUSE_REASON[st.paused_reason] : null;
  if (st.state === "error") { text = STATE_TEXT.error; }
  setState(st.state, text);
  if (typeof st.jobs_completed === "number") {
    $("jobs-completed").textContent = String(st.jobs_completed);
    if (st.jobs_completed !== S.earnings.jobs && S.walletToken) { refreshWallet(); }
    S.earnings.jobs = st.jobs_completed;
  }
  if (!S.walletToken) {
    if (typeof st.balance_micro_usdc === "number") { S.earnings.available = st.balance_micro_usdc; }
    if (typeof st.pending_micro_usdc === "number") { S.earnings.pending = st.pending_micro_usdc; }
    showEarnings();
  }
  if (st.wallet_linked && S.walletToken && !S.linkedSeen) {
    S.linkedSeen = true;
    showError("message", "");
    refreshWallet();
  }
  if (st.link_error) { showError("message", st.link_error); }
  if (typeof st.tier === "string") {
    $("reputation").textContent = formatReputation(st.reputation_score, st.tier);
  }
  if (typeof st.last_payout_micro_usdc === "number" && st.last_payout_micro_usdc > 0) {
    $("last-payout").textContent = formatMicroUsdc(st.last_payout_micro_usdc) + " USDC";
  }
  const running = st.state === "running" || st.state === "downloading" || st.state === "submitting";
  $("job-id").textContent = running && st.job_id ? st.job_id : "–";
  showJobProgress(running ? st.progress : null);
  showDownload(st.download);
  if (st.engine) { $("engine").textContent = st.engine; }
  if (typeof st.tokens_per_s === "number" && st.tokens_per_s > 0) {
    $("speed").textContent = st.tokens_per_s.toFixed(1) + " tokens/s";
  }
  if (typeof st.busy_fraction === "number") {
    $("busy").textContent = Math.round(st.busy_fraction * 100) + " % of one core";
  }
  if (st.session_id) {
    $("session-id").textContent = st.session_id;
    // the session's receipt chain, checked in the visitor's browser (docs/receipts.md)
    $("session-receipts").setAttribute("href", "/verify/#session=" + encodeURIComponent(st.session_id));
  }
  showError("message", st.state === "error" ? (st.message || STATE_TEXT.error) : "");
  if (st.state === "stopped") { onStopped(); }
}

/** @param {any} p the progress of the running job, or null */
function showJobProgress(p) {
  const jp = $("job-progress");
  if (p && typeof p.tokens_done === "number" && p.max_tokens > 0) {
    jp.max = p.max_tokens;
    jp.value = p.tokens_done;
    jp.setAttribute("aria-valuetext", p.tokens_done + " of " + p.max_tokens + " tokens");
    jp.hidden = false;
  } else {
    jp.hidden = true;
  }
}

/** @param {any} d the model download's progress */
function showDownload(d) {
  if (d && typeof d.loaded_bytes === "number") {
    const total = d.total_bytes > 0 ? d.total_bytes : 0;
    $("download-text").textContent = formatBytes(d.loaded_bytes) + (total ? " of " + formatBytes(total) : "");
    $("download-progress").hidden = !total || d.loaded_bytes >= total;
    if (total) { $("download-progress").max = total; $("download-progress").value = d.loaded_bytes; }
  }
}

export function showEarnings() {
  setMicro("balance", S.earnings.available);
  setMicro("pending", S.earnings.pending);
  postToHost("earnings", {available_micro_usdc: S.earnings.available, pending_micro_usdc: S.earnings.pending,
    jobs_completed: S.earnings.jobs});
}

/** @param {boolean} paused */
export function setPaused(paused) {
  if (!S.worker || S.stopped) { return; }
  S.visitorPaused = paused;
  S.worker.postMessage({type: paused ? "pause" : "resume"});
  $("pause-toggle").textContent = paused ? "Resume" : "Pause";
  $("pause-toggle").setAttribute("aria-pressed", paused ? "true" : "false");
  if (!paused) { hostNotice(""); }
  postToHost("status", statusDetail());
}

function stopWorker() {
  const w = S.worker;
  if (!w) { return; }
  w.postMessage({type: "stop"});
  S.worker = null;
  // The worker cancels or finishes its current step within a second; then it is ended for good.
  setTimeout(() => { w.terminate(); }, 1000);
}

export function stopOrRestart() {
  if (S.stopped || !S.worker) {
    startSession();
    return;
  }
  stopWorker();
  onStopped();
}

function onStopped() {
  S.stopped = true;
  $("pause-toggle").disabled = true;
  $("stop").textContent = "Start again";
  setState("stopped");
}

/** Once a second: the session's running time. */
export function tick() {
  if (S.worker && !S.stopped && S.sessionStartedAt) {
    $("session-time").textContent = formatDuration(Date.now() - S.sessionStartedAt);
  }
}

export function sendVisibility() {
  if (S.worker) { S.worker.postMessage({type: "visibility", visible: document.visibilityState === "visible"}); }
}

let batteryWatched = false;
function watchBattery() {
  const nav = /** @type {any} */ (navigator);
  if (batteryWatched || typeof nav.getBattery !== "function") { return; }
  batteryWatched = true;
  nav.getBattery().then((/** @type {any} */ b) => {
    function send() { if (S.worker) { S.worker.postMessage({type: "power", on_battery: !b.charging}); } }
    b.addEventListener("chargingchange", send);
    send();
  }).catch(() => { /* not allowed in this frame: treated as mains power */ });
}
