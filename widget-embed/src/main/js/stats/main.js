/*
 * The public stats page, /stats/ (docs/stats.md): headline figures and charts over 24 hours and 7 days from
 * GET /api/stats, drawn with uPlot (npm "uplot", MIT, bundled by esbuild). Every value is written as text.
 */
import uPlot from "uplot";
import { breakdown, chartData, passRate, usdc } from "./series.js";

/** @param {string} id */
const el = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {Map<string, uPlot>} the chart drawn in each container, updated with new data */
const charts = new Map();

/**
 * Draws (or updates) a chart of some bucket fields into the container `id`.
 * @param {string} id
 * @param {number[][]} data
 * @param {{label: string, stroke: string, fill: string}[]} lines
 */
function chart(id, data, lines) {
  const drawn = charts.get(id);
  if (drawn) {
    drawn.setData(/** @type {any} */ (data));
    return;
  }
  const box = el(id);
  const made = new uPlot({
    width: Math.max(280, Math.min(640, box.clientWidth || 640)),
    height: 180,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.stroke, fill: l.fill }))]
  }, /** @type {any} */ (data), box);
  charts.set(id, made);
}

/** @param {any} s the /api/stats document */
function show(s) {
  el("online").textContent = String(s.nodes_online.total);
  el("by-engine").textContent = breakdown(s.nodes_online.by_engine).join(", ") || "–";
  el("by-tier").textContent = breakdown(s.nodes_online.by_tier).join(", ") || "–";
  el("jobs-per-minute").textContent = String(s.jobs_per_minute);
  el("tokens-per-second").textContent = String(s.tokens_per_second);
  const v = s.verification;
  el("verification").textContent = v.passed + " passed, " + v.failed + " failed, " + v.pending + " pending, "
    + v.not_sampled + " not sampled (pass rate " + passRate(v) + ")";
  el("paid-visitors").textContent = usdc(s.paid_micro_usdc.visitors);
  el("paid-publishers").textContent = usdc(s.paid_micro_usdc.publishers);
  el("generated").textContent = new Date(s.generated_at).toLocaleString();
  for (const range of ["24h", "7d"]) {
    const series = s.series[range];
    chart("jobs-" + range, chartData(series, ["jobs"]),
      [{ label: "jobs", stroke: "#2f6f4e", fill: "rgba(47, 111, 78, 0.25)" }]);
    chart("tokens-" + range, chartData(series, ["tokens"]),
      [{ label: "tokens", stroke: "#1f5fa8", fill: "rgba(31, 95, 168, 0.2)" }]);
    chart("paid-" + range, chartData(series, ["paid_visitors_micro_usdc", "paid_publishers_micro_usdc"]),
      [{ label: "to visitors (µUSDC)", stroke: "#b8651b", fill: "rgba(184, 101, 27, 0.2)" },
        { label: "to publishers (µUSDC)", stroke: "#6b3fa0", fill: "rgba(107, 63, 160, 0.15)" }]);
  }
  el("status").textContent = "";
}

function load() {
  fetch("/api/stats", { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.statusText))))
    .then(show)
    .catch((e) => { el("status").textContent = "Could not load the statistics: " + e.message; });
}

load();
setInterval(load, 30_000);
