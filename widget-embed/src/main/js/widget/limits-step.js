/* Step 3, hardware consent: the visitor's limits within the placement's caps; Apply while a session runs. */
import { $, showError } from "../shared/dom.js";
import { S, LIMITS_KEY } from "./state.js";
import { show } from "./steps.js";
import { formValues, limitRanges, limitsOf, wholeNumberIn } from "./limits.js";
import { prepareVerify } from "./verify-step.js";
import { startSession } from "./session.js";

function storedLimits() {
  try { return JSON.parse(localStorage.getItem(LIMITS_KEY) || "null"); } catch (e) { return null; }
}

/** @param {boolean} editing true to change the limits of the running session */
export function openLimits(editing) {
  const v = formValues(S.limits || storedLimits() || {}, S.caps,
      /** @type {any} */ (navigator).deviceMemory);
  const cpu = $("limit-cpu");
  cpu.max = String(v.cpuMax);
  cpu.value = String(v.cpu);
  $("cap-cpu").textContent = String(v.capPct);
  $("limit-cpu-value").textContent = cpu.value;
  $("limit-gpu").disabled = !v.gpuAllowed;
  $("limit-gpu").checked = v.gpu;
  $("limit-memory").max = String(v.memoryMax);
  $("limit-memory").value = String(v.memory);
  $("limit-bandwidth").max = String(v.bandwidthMax);
  $("limit-bandwidth").value = String(v.bandwidth);
  $("limit-session-mb").value = String(v.sessionMb);
  $("limit-visible").checked = v.onlyWhenVisible;
  $("limit-battery").checked = v.pauseOnBattery;
  $("limits-start").textContent = editing ? "Apply" : "Agree and continue";
  $("limits-cancel").hidden = !editing;
  S.editingLimits = editing;
  showError("limits-error", "");
  show("limits");
}

/**
 * The whole number in a field within [lo, hi] (the field is marked invalid otherwise, and this throws).
 * @param {string} id
 * @param {number[]} range
 * @param {string} what
 * @returns {number}
 */
function intField(id, range, what) {
  const field = $(id);
  const v = wholeNumberIn(field.value, range[0], range[1]);
  field.setAttribute("aria-invalid", v !== null ? "false" : "true");
  if (v === null) { throw new Error(what + " must be a whole number from " + range[0] + " to " + range[1] + "."); }
  return v;
}

function readLimits() {
  const r = limitRanges(S.caps);
  return limitsOf({
    cpuPct: intField("limit-cpu", r.cpu, "CPU share"),
    memory: intField("limit-memory", r.memory, "Memory (MB)"),
    kBs: intField("limit-bandwidth", r.bandwidth, "Bandwidth (KB/s)"),
    sessionMb: intField("limit-session-mb", r.sessionMb, "Data per session (MB)"),
    gpu: $("limit-gpu").checked,
    onlyWhenVisible: $("limit-visible").checked,
    pauseOnBattery: $("limit-battery").checked
  }, S.caps);
}

/** @param {Event} event */
export function submitLimits(event) {
  event.preventDefault();
  let limits;
  try { limits = readLimits(); } catch (e) { showError("limits-error", /** @type {Error} */ (e).message); return; }
  S.limits = limits;
  try { localStorage.setItem(LIMITS_KEY, JSON.stringify(limits)); } catch (e) { /* private mode: this visit only */ }
  if (S.editingLimits) {
    if (S.worker) { S.worker.postMessage({type: "limits", limits}); }
    show("session");
    return;
  }
  if (S.signer && !S.walletToken) {
    S.afterVerify = "session";
    prepareVerify();
    show("verify");
  } else {
    startSession();
  }
}
