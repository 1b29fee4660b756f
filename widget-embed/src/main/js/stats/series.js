/*
 * The public stats page's numbers (docs/stats.md): GET /api/stats's series as chart data, and the headline
 * figures as text. Pure functions, unit-tested; stats/main.js draws them.
 */

/**
 * One series of /api/stats as uPlot data: x = each bucket's start in epoch seconds, then one array per field.
 * @param {{buckets: Array<Record<string, any>>}} series a range of `series` ("24h" or "7d")
 * @param {string[]} fields bucket fields, in order
 * @returns {number[][]}
 */
export function chartData(series, fields) {
  const buckets = Array.isArray(series?.buckets) ? series.buckets : [];
  const x = buckets.map((b) => Date.parse(b.start) / 1000);
  return [x, ...fields.map((f) => buckets.map((b) => Number(b[f]) || 0))];
}

/**
 * Micro-USDC as USDC with up to 6 decimals, exact for integers (no floating point on the amount).
 * @param {number} micro
 * @returns {string}
 */
export function usdc(micro) {
  const n = Math.trunc(Number(micro) || 0);
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  const whole = Math.floor(abs / 1e6);
  const frac = String(abs % 1e6).padStart(6, "0").replace(/0+$/, "");
  return sign + whole + (frac ? "." + frac : "") + " USDC";
}

/**
 * A count per key as "key: n" items, largest first (ties by key), leaving out zeros.
 * @param {Record<string, number>} counts
 * @returns {string[]}
 */
export function breakdown(counts) {
  return Object.entries(counts || {})
    .filter(([, n]) => Number(n) > 0)
    .sort((a, b) => Number(b[1]) - Number(a[1]) || a[0].localeCompare(b[0]))
    .map(([k, n]) => k + ": " + n);
}

/**
 * The share of passed verifications among decided ones, as a percentage text, or "–" when none was decided.
 * @param {{passed: number, failed: number}} v
 * @returns {string}
 */
export function passRate(v) {
  const decided = (v?.passed || 0) + (v?.failed || 0);
  return decided === 0 ? "–" : ((100 * v.passed) / decided).toFixed(1) + " %";
}
