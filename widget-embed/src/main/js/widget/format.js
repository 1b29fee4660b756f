/* Formatting of durations and byte counts for the session step. */

/**
 * "m:ss", or "h:mm:ss" from an hour on.
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
  return (h > 0 ? h + ":" : "") + mm + ":" + ss;
}

/**
 * "12 KB" below a mebibyte, "3.4 MB" from one on; "?" for what is not a number.
 * @param {unknown} n bytes
 * @returns {string}
 */
export function formatBytes(n) {
  if (typeof n !== "number" || !isFinite(n)) { return "?"; }
  return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " KB";
}

/**
 * The public reputation of the node's identity (docs/trust.md): "71 / 100 · Verified".
 * @param {unknown} score 0 to 100
 * @param {unknown} tier probation, verified or trusted
 * @returns {string}
 */
export function formatReputation(score, tier) {
  if (typeof score !== "number" || typeof tier !== "string" || tier === "") { return "–"; }
  return Math.round(score) + " / 100 · " + tier.charAt(0).toUpperCase() + tier.slice(1);
}
