import { test } from "node:test";
import assert from "node:assert/strict";
import { breakdown, chartData, passRate, usdc } from "../../main/js/stats/series.js";

test("chartData turns /api/stats buckets into uPlot columns: x in epoch seconds, one array per field", () => {
  const series = { bucket_seconds: 3600, buckets: [
    { start: "2026-12-06T10:00:00Z", jobs: 2, tokens: 30, paid_visitors_micro_usdc: 500 },
    { start: "2026-12-06T11:00:00Z", jobs: 0, tokens: 0, paid_visitors_micro_usdc: 0 }] };
  assert.deepEqual(chartData(series, ["jobs", "paid_visitors_micro_usdc"]),
    [[Date.UTC(2026, 11, 6, 10) / 1000, Date.UTC(2026, 11, 6, 11) / 1000], [2, 0], [500, 0]]);
  assert.deepEqual(chartData({ buckets: [] }, ["jobs"]), [[], []]);
  assert.deepEqual(chartData(/** @type {any} */ (undefined), ["jobs"]), [[], []], "a missing series draws empty");
});

test("usdc writes micro-USDC exactly, without trailing zeros", () => {
  assert.equal(usdc(0), "0 USDC");
  assert.equal(usdc(440), "0.00044 USDC");
  assert.equal(usdc(1_500_000), "1.5 USDC");
  assert.equal(usdc(123_456_789), "123.456789 USDC");
});

test("breakdown lists non-zero counts, largest first, ties by name", () => {
  assert.deepEqual(breakdown({ probation: 2, trusted: 0, verified: 2, webgpu: 5 }),
    ["webgpu: 5", "probation: 2", "verified: 2"]);
  assert.deepEqual(breakdown({}), []);
});

test("passRate is passed over decided verifications, or a dash when none", () => {
  assert.equal(passRate({ passed: 3, failed: 1 }), "75.0 %");
  assert.equal(passRate({ passed: 0, failed: 0 }), "–");
});
