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

/** The share of the device's reported memory offered by default: the rest stays the system's and the browser's. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/** The memory (MB) offered by default where the browser reports none (navigator.deviceMemory is Chromium's only). */
export const UNREPORTED_MEMORY_MB = 512;

/** The data per session (MB) offered by default at the least. */
export const MIN_DEFAULT_SESSION_MB = 200;

/**
 * The memory offered by default: half of what the device reports (navigator.deviceMemory, in GiB, as sent in the
 * node's capabilities), so a model fits wherever the device has twice its size, in whole 64 MB steps (the field's
 * step); 512 MB where nothing is reported.
 * @param {number | undefined} deviceMemoryGb
 * @returns {number} MB
 */
export function defaultMemoryMb(deviceMemoryGb) {
  return typeof deviceMemoryGb === "number" && deviceMemoryGb > 0
    ? Math.max(64, Math.floor(deviceMemoryGb * 1024 * DEFAULT_MEMORY_SHARE / 64) * 64) : UNREPORTED_MEMORY_MB;
}

/**
 * What the form shows: the saved limits, clamped to the caps, or the defaults: 50 % CPU, GPU off, 256 KB/s, memory
 * from the device ({@link defaultMemoryMb}) and as much data per session as that memory holds (at least 200 MB), so
 * any model the memory limit admits can be downloaded once.
 * @param {Partial<Limits>} saved
 * @param {import("./state.js").Caps} caps
 * @param {number} [deviceMemoryGb] what the device reports (navigator.deviceMemory), absent where it reports nothing
 * @returns {FormValues}
 */
export function formValues(saved, caps, deviceMemoryGb) {
  const capPct = Math.round(caps.cpu_share * 100);
  const capKBs = Math.floor(caps.bandwidth_kbps / 8);
  const memory = clamp(saved.memory_mb || defaultMemoryMb(deviceMemoryGb), 64, caps.memory_mb);
  return {
    capPct,
    cpuMax: Math.max(5, capPct),
    cpu: clamp(Math.round((saved.cpu_share || 0.5) * 100), 5, Math.max(5, capPct)),
    gpuAllowed: caps.gpu,
    gpu: caps.gpu && saved.gpu === true,
    memoryMax: caps.memory_mb,
    memory,
    bandwidthMax: capKBs,
    bandwidth: clamp(saved.bandwidth_kbps ? Math.round(saved.bandwidth_kbps / 8) : 256, 8, Math.max(8, capKBs)),
    sessionMb: saved.bandwidth_mb_per_session || Math.max(MIN_DEFAULT_SESSION_MB, memory),
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
