/*
 * The visitor's hardware limits, clamped to the placement's caps. Pure functions: the form (limits-step.js) shows
 * formValues() and turns what was typed back into limits with limitsOf().
 */

/**
 * @typedef {object} Limits what the visitor allows (sent to the worker; saved in localStorage)
 * @property {number} cpu_share 0.05..caps.cpu_share
 * @property {boolean} gpu
 * @property {number} memory_mb
 * @property {number} bandwidth_kbps
 * @property {number} bandwidth_mb_per_session
 * @property {boolean} only_when_visible
 * @property {boolean} pause_on_battery
 */

/**
 * @typedef {object} FormValues the limits form's fields (CPU in %, bandwidth in KB/s) and their maxima
 * @property {number} capPct the placement's CPU cap in %
 * @property {number} cpuMax
 * @property {number} cpu
 * @property {boolean} gpuAllowed
 * @property {boolean} gpu
 * @property {number} memoryMax
 * @property {number} memory
 * @property {number} bandwidthMax
 * @property {number} bandwidth
 * @property {number} sessionMb
 * @property {boolean} onlyWhenVisible
 * @property {boolean} pauseOnBattery
 */

/**
 * @param {number} v
 * @param {number} lo
 * @param {number} hi
 * @returns {number} v within [lo, hi]
 */
export function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

/**
 * The inclusive range of each whole-number field under these caps.
 * @param {import("./state.js").Caps} caps
 * @returns {{cpu: number[], memory: number[], bandwidth: number[], sessionMb: number[]}}
 */
export function limitRanges(caps) {
  return {
    cpu: [5, Math.max(5, Math.round(caps.cpu_share * 100))],
    memory: [64, caps.memory_mb],
    bandwidth: [8, Math.max(8, Math.floor(caps.bandwidth_kbps / 8))],
    sessionMb: [1, 100000]
  };
}

/**
 * What the form shows: the saved limits (or the defaults: 50 % CPU, 512 MB, 256 KB/s, 200 MB a session, GPU off),
 * clamped to the caps.
 * @param {Partial<Limits>} saved
 * @param {import("./state.js").Caps} caps
 * @returns {FormValues}
 */
export function formValues(saved, caps) {
  const capPct = Math.round(caps.cpu_share * 100);
  const capKBs = Math.floor(caps.bandwidth_kbps / 8);
  return {
    capPct,
    cpuMax: Math.max(5, capPct),
    cpu: clamp(Math.round((saved.cpu_share || 0.5) * 100), 5, Math.max(5, capPct)),
    gpuAllowed: caps.gpu,
    gpu: caps.gpu && saved.gpu === true,
    memoryMax: caps.memory_mb,
    memory: clamp(saved.memory_mb || 512, 64, caps.memory_mb),
    bandwidthMax: capKBs,
    bandwidth: clamp(saved.bandwidth_kbps ? Math.round(saved.bandwidth_kbps / 8) : 256, 8, Math.max(8, capKBs)),
    sessionMb: saved.bandwidth_mb_per_session || 200,
    onlyWhenVisible: saved.only_when_visible !== false,
    pauseOnBattery: saved.pause_on_battery !== false
  };
}

/**
 * The whole number a field holds when it is one within [lo, hi], else null.
 * @param {string} text
 * @param {number} lo
 * @param {number} hi
 * @returns {number | null}
 */
export function wholeNumberIn(text, lo, hi) {
  const v = Number(text);
  return text.trim() !== "" && Number.isInteger(v) && v >= lo && v <= hi ? v : null;
}

/**
 * The limits from the form's checked values (CPU in %, bandwidth in KB/s), within the caps.
 * @param {{cpuPct: number, memory: number, kBs: number, sessionMb: number, gpu: boolean, onlyWhenVisible: boolean,
 *   pauseOnBattery: boolean}} f
 * @param {import("./state.js").Caps} caps
 * @returns {Limits}
 */
export function limitsOf(f, caps) {
  return {
    cpu_share: Math.min(f.cpuPct / 100, caps.cpu_share),
    gpu: caps.gpu && f.gpu,
    memory_mb: f.memory,
    bandwidth_kbps: f.kBs * 8,
    bandwidth_mb_per_session: f.sessionMb,
    only_when_visible: f.onlyWhenVisible,
    pause_on_battery: f.pauseOnBattery
  };
}
