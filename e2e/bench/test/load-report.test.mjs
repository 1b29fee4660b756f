// The load report (load-report.mjs) on a results file with two stores: one table row per scenario naming its store,
// and the per-store chart has one series per store over the node counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { barChartSvg, nodeGroups, renderSection, storeSeries } from "../load-report.mjs";

const scenario = (store, instances, nodes, cycles) => ({ store, instances, nodes, registered: nodes,
  onboarding_seconds: 10, measured_seconds: 15, cycles: cycles * 15, cycles_per_s: cycles, errors: 0, polls_refused: 1234,
  errors_by_kind: {}, poll: { p50_ms: 1, p99_ms: 9 }, submit: { p50_ms: 2, p99_ms: 8 },
  job_submit: { p50_ms: 3, p99_ms: 7 }, trivial: { requests_per_s: 1000, p99_ms: 4, errors: 0 },
  cycles_per_trivial_request: cycles / 1000 });
const results = {
  command: "./earnidle bench-load --store h2,postgres2", started_at: "2026-12-06T16:00:00Z",
  machine: { cores: 2, cpu_model: "cpu", java: "java 25" }, loadavg_start: [0.1, 0.1, 0.1], loadavg_end: [1, 1, 1],
  settings: { client: "c", model: "m", max_tokens: 8, customer_threads: 16, distinct_prompts: 4,
    open_jobs_per_node: 1, warmup_seconds: 5, measure_seconds: 15, backend_settings: {} },
  scenarios: [scenario("h2", 1, 100, 50), scenario("h2", 1, 1000, 60), scenario("postgres2", 2, 100, 40)],
};

test("one table row per scenario, named by its store and instance count", () => {
  const md = renderSection(results, { resultsPath: "bench/results/x-load.json", imgRel: "img" });
  const rows = md.split("\n").filter((l) => /^\| (H2|PostgreSQL) ×/.test(l));
  assert.deepEqual(rows.map((l) => l.split(" | ").slice(0, 3).join(" | ")),
    ["| H2 ×1 | 100 | 10.0", "| H2 ×1 | 1,000 | 10.0", "| PostgreSQL ×2 | 100 | 10.0"]);
  assert.match(md, /img\/load-stores\.png/);
  assert.match(md, /\| errors \| refused polls \|/);
  assert.match(rows[0], /\| 0 \| 1,234 \| 1,000 \|/, "errors, then the polls refused at the bound");
});

test("the per-store chart has one series per store, a group per node count, and no bar where a store did not run", () => {
  const series = storeSeries(results, (r) => r?.cycles_per_s);
  const groups = nodeGroups(results);
  assert.deepEqual(series.map((s) => s.name), ["H2 ×1", "PostgreSQL ×2"]);
  assert.deepEqual(groups, [{ nodes: 100 }, { nodes: 1000 }]);
  assert.deepEqual(groups.map((g) => series.map((s) => s.value(g))), [[50, 40], [60, undefined]]);
  const svg = barChartSvg(results, series, "t", "per second", groups, (g) => `${g.nodes} nodes`);
  assert.equal((svg.match(/<rect x=/g) || []).length - 2, 3, "three bars (plus two legend boxes)");
  assert.doesNotMatch(svg, /NaN/);
});

test("a scenario whose nodes were not all onboarded is a row saying how far it got, and no bar", () => {
  const stuck = { store: "postgres2", instances: 2, nodes: 5000, registered: 5000, onboarded: false,
    onboarded_nodes: 1234, onboarding_seconds: 360, errors: 7, errors_by_kind: { "poll HTTP 500": 7 },
    polls_refused: 42 };
  const withStuck = { ...results, scenarios: [...results.scenarios, stuck] };
  const md = renderSection(withStuck, { resultsPath: "bench/results/x-load.json", imgRel: "img" });
  assert.match(md, /\| PostgreSQL ×2 \| 5,000 \| not onboarded: 1,234 of 5,000 nodes after 360 s \| — \|/);
  assert.match(md, /poll HTTP 500 × 7/);
  assert.match(md, /\| — \| — \| — \| — \| 7 \| 42 \| — \| — \| — \|/);
  const svg = barChartSvg(withStuck, [{ name: "p", color: "#000", value: (r) => r.poll?.p99_ms }], "t", "ms");
  assert.doesNotMatch(svg, /NaN/);
});

test("a scenario's label takes a line per part, so that neighbouring labels do not overlap", () => {
  const svg = barChartSvg(results, [{ name: "c", color: "#000", value: (r) => r.cycles_per_s }], "t", "per second");
  assert.match(svg, /<tspan x="[\d.]+" dy="0">PostgreSQL ×2<\/tspan><tspan x="[\d.]+" dy="16">100 nodes<\/tspan>/);
  assert.match(svg, /<tspan x="[\d.]+" dy="0">H2 ×1<\/tspan><tspan x="[\d.]+" dy="16">1,000 nodes<\/tspan>/);
});
