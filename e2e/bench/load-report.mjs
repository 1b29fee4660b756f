#!/usr/bin/env node
// Turns a load results file (bench/results/*-load.json, written by the e2e LoadBench, ./earnidle bench-load) into the
// "Load" section of docs/benchmarks.md (between the LOAD_BEGIN / LOAD_END markers; report.mjs keeps it when it
// rewrites the page) and the PNG charts docs/img/load-cycles.png and docs/img/load-latency.png (SVG rendered and
// screenshotted by headless Chromium, as report.mjs does).
//   node e2e/bench/load-report.mjs [--results FILE] [--md FILE] [--img-dir DIR] [--no-png]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderPngs } from "./report.mjs";
import { LOAD_BEGIN, LOAD_END, loadSection } from "./lib/load-section.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
export { LOAD_BEGIN, LOAD_END, loadSection };

/** Issue 23's targets at 1,000 nodes on H2. */
const TARGET = { nodes: 1000, cyclesPerS: 2000, p99Ms: 50, ofTrivial: 0.25 };

const f0 = (v) => (v == null ? "—" : Math.round(v).toLocaleString("en-US"));
const f1 = (v) => (v == null ? "—" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const xml = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** A scenario's store and instance count: "H2 ×1", "PostgreSQL ×2". */
const storeName = (s) => `${s.store === "h2" ? "H2" : "PostgreSQL"} ×${s.instances}`;
const label = (s) => `${storeName(s)}, ${f0(s.nodes)} nodes`;
const STORE_COLORS = ["#3b6fd4", "#2e9e5b", "#e08a2c", "#9b59b6"];

/** One series per store of the results (first-seen order), the value of `field` at each node count. */
export function storeSeries(results, field) {
  const stores = [...new Map(results.scenarios.map((r) => [storeName(r), r])).keys()];
  return stores.map((name, i) => ({ name, color: STORE_COLORS[i % STORE_COLORS.length],
    value: (g) => field(results.scenarios.find((r) => storeName(r) === name && r.nodes === g.nodes)) }));
}

/** The node counts of the results, ascending: the groups of the per-store chart. */
export function nodeGroups(results) {
  return [...new Set(results.scenarios.map((r) => r.nodes))].sort((a, b) => a - b).map((nodes) => ({ nodes }));
}

export function renderSection(results, { resultsPath, imgRel }) {
  const L = [LOAD_BEGIN, "", "## Load", ""];
  const la = results.loadavg_start || [];
  if (la[0] > (results.machine?.cores || 1) * 0.5) {
    L.push(`> **Busy machine**: the 1-minute load average was ${la[0]} on ${results.machine.cores} cores when the run`,
      "> started. Figures taken on a busy machine are not representative; rerun on a quiet one.", "");
  }
  const s = results.settings;
  L.push(`Results file: \`${resultsPath}\`. Command: \`${results.command}\`.`, "",
    `Simulated nodes (${s.client}) register on the demo placement, then poll`
      + " `GET /api/inference/job` and post each lease's honest answer to `POST /api/inference/result`: the job run on"
      + ` the JVM engine on the downloaded model (\`${s.model}\`, ${s.max_tokens} tokens; a job equal to one already`
      + " run reuses its generation, and the node reports its time at the node's own speed: that of the last job it"
      + " ran, its benchmark first). After a poll that got no job, or was refused, a node waits as"
      + " the browser node does: the suggested poll interval, doubling to 10 s, with jitter; after a job it polls again"
      + " at once. Customers (`POST /api/jobs`, the demo key,"
      + ` ${s.customer_threads} threads, ${s.distinct_prompts} prompts at temperature 0) keep ${s.open_jobs_per_node}`
      + " open job per node. A new session's first job is its capability benchmark (a random job, verified): the"
      + ` measurement starts once every node has passed it, after a ${s.warmup_seconds} s warm-up, and lasts`
      + ` ${s.measure_seconds} s. A cycle is a lease whose result the backend accepted (200,`
      + ' `"status":"accepted"`); latencies are of the requests started while measuring (of polls, those answered 200'
      + ' or 204: a poll refused with 503 at the backend\'s bound of polls in flight is counted apart, as a refused poll, not as an error). Then the same number of'
      + " clients load `GET /api/health` (no database, no session) on the same server for as long: the trivial"
      + " endpoint. Stores: H2 ×1 is one backend on embedded H2; PostgreSQL ×2 is a throwaway PostgreSQL 15 (local,"
      + " no fsync) with two backend instances in cluster mode on one database, the nodes, customers and trivial"
      + " clients spread round-robin over both. Settings over the shipped defaults: "
      + Object.entries(s.backend_settings).map(([k, v]) => `\`${k}: ${v}\``).join(", ") + ".", "",
    `Machine: ${results.machine.cpu_model}, ${results.machine.cores} cores, ${results.machine.java}; started`
      + ` ${results.started_at}, load average ${la.join(" / ")} at start, ${(results.loadavg_end || []).join(" / ")} at end.`,
    "");
  L.push("| store | nodes | onboarding s | cycles/s | poll p50 / p99 ms | submit p50 / p99 ms | job submit p50 / p99 ms"
    + " | errors | refused polls | trivial req/s | trivial p99 ms | cycles / trivial |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results.scenarios) {
    if (r.onboarded === false) { // no steady state: how far onboarding got is the figure
      L.push(`| ${storeName(r)} | ${f0(r.nodes)} | not onboarded: ${f0(r.onboarded_nodes)} of ${f0(r.registered)} nodes`
        + ` after ${f1(r.onboarding_seconds)} s | — | — | — | — | ${f0(r.errors)} | ${f0(r.polls_refused)} | — | — | — |`);
      continue;
    }
    L.push(`| ${storeName(r)} | ${f0(r.nodes)} | ${f1(r.onboarding_seconds)} | ${f0(r.cycles_per_s)}`
      + ` | ${f1(r.poll.p50_ms)} / ${f1(r.poll.p99_ms)} | ${f1(r.submit.p50_ms)} / ${f1(r.submit.p99_ms)}`
      + ` | ${f1(r.job_submit.p50_ms)} / ${f1(r.job_submit.p99_ms)} | ${f0(r.errors + r.trivial.errors)} | ${f0(r.polls_refused)}`
      + ` | ${f0(r.trivial.requests_per_s)} | ${f1(r.trivial.p99_ms)} | ${r.cycles_per_trivial_request.toFixed(3)} |`);
  }
  const errs = results.scenarios.filter((r) => r.errors > 0);
  if (errs.length) {
    L.push("", "Errors by kind: " + errs.map((r) => `${label(r)}: `
      + Object.entries(r.errors_by_kind).map(([k, v]) => `${k} × ${v}`).join(", ")).join("; ") + ".");
  }
  L.push("", "### Targets (issue 23, 1,000 nodes on H2)", "", "| target | measured | status |", "|---|---|---|");
  const t = results.scenarios.find((r) => r.store === "h2" && r.nodes === TARGET.nodes && r.onboarded !== false);
  const row = (name, v, ok) => L.push(`| ${name} | ${v} | ${ok == null ? "not run" : ok ? "met" : "**missed**"} |`);
  row(`≥ ${f0(TARGET.cyclesPerS)} completed cycles/s`, t ? f0(t.cycles_per_s) : "—", t && t.cycles_per_s >= TARGET.cyclesPerS);
  row(`poll and submit p99 < ${TARGET.p99Ms} ms`, t ? `${f1(t.poll.p99_ms)} / ${f1(t.submit.p99_ms)} ms` : "—",
    t && t.poll.p99_ms < TARGET.p99Ms && t.submit.p99_ms < TARGET.p99Ms);
  row(`≥ ${TARGET.ofTrivial} of the trivial endpoint`, t ? t.cycles_per_trivial_request.toFixed(3) : "—",
    t && t.cycles_per_trivial_request >= TARGET.ofTrivial);
  L.push("", `![completed cycles per second](${imgRel}/load-cycles.png)`, "",
    `![poll and submit latency](${imgRel}/load-latency.png)`, "",
    `![completed cycles per second by store](${imgRel}/load-stores.png)`, "", LOAD_END);
  return L.join("\n") + "\n";
}

/** An SVG grouped bar chart: one group per scenario (or per entry of `groups`), one bar per series. */
export function barChartSvg(results, series, title, yLabel, groups = results.scenarios, groupLabel = label) {
  const rows = groups;
  const W = 1100, H = 520, left = 80, right = 20, top = 80, bottom = 90;
  const vals = rows.flatMap((r) => series.map((s) => s.value(r))).filter((v) => v != null && isFinite(v));
  const raw = Math.max(1e-9, ...vals);
  const p = 10 ** Math.floor(Math.log10(raw));
  const maxV = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((k) => k * p).find((v) => v >= raw * 1.08) || 10 * p;
  const gw = (W - left - right) / Math.max(rows.length, 1);
  const bw = Math.min(60, (gw - 20) / series.length);
  const y = (v) => top + (H - top - bottom) * (1 - v / maxV);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="28" font-size="20" text-anchor="middle" font-weight="bold">${xml(title)}</text>`,
    `<text x="${W / 2}" y="50" font-size="13" text-anchor="middle" fill="#555">${xml(`${results.machine.cores} cores, ${results.machine.cpu_model}; load average ${(results.loadavg_start || []).join(" / ")} at start`)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const v = (maxV * i) / 5;
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e4e4"/>`,
      `<text x="${left - 8}" y="${y(v) + 4}" font-size="12" text-anchor="end" fill="#444">${f1(v)}</text>`);
  }
  out.push(`<text x="18" y="${(top + H - bottom) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${(top + H - bottom) / 2})">${xml(yLabel)}</text>`);
  rows.forEach((r, i) => {
    const gx = left + i * gw + (gw - bw * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.value(r), x = gx + j * bw;
      if (v == null || !isFinite(v)) return; // a store not run at this node count
      out.push(`<rect x="${x + 2}" y="${y(v)}" width="${bw - 4}" height="${y(0) - y(v)}" fill="${s.color}"/>`,
        `<text x="${x + bw / 2}" y="${y(v) - 5}" font-size="11" text-anchor="middle">${f1(v)}</text>`);
    });
    // a label of several parts ("PostgreSQL ×2, 1,000 nodes") takes a line per part: one line overlaps its neighbours
    const cx = left + i * gw + gw / 2;
    const lines = groupLabel(r).split(", ").map((part, k) => `<tspan x="${cx}" dy="${k === 0 ? 0 : 16}">${xml(part)}</tspan>`);
    out.push(`<text x="${cx}" y="${H - bottom + 22}" font-size="13" text-anchor="middle">${lines.join("")}</text>`);
  });
  out.push(`<line x1="${left}" x2="${W - right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  series.forEach((s, j) => out.push(`<rect x="${left + j * 200}" y="${top - 20}" width="14" height="14" fill="${s.color}"/>`,
    `<text x="${left + 20 + j * 200}" y="${top - 8}" font-size="13">${xml(s.name)}</text>`));
  out.push("</svg>");
  return out.join("\n");
}

/** The page with its load section replaced (or appended). */
export function withSection(md, section) {
  const a = md.indexOf(LOAD_BEGIN), b = md.indexOf(LOAD_END);
  if (a >= 0 && b > a) return md.slice(0, a) + section + md.slice(b + LOAD_END.length + 1);
  return (md.endsWith("\n") ? md : md + "\n") + "\n" + section;
}


export async function writeLoadReport({ resultsFile, mdFile, imgDir, png = true }) {
  const results = JSON.parse(fs.readFileSync(resultsFile, "utf8"));
  const rel = (p) => path.relative(REPO, path.resolve(p)).split(path.sep).join("/");
  const imgRel = path.relative(path.dirname(path.resolve(mdFile)), path.resolve(imgDir)).split(path.sep).join("/") || ".";
  const section = renderSection(results, { resultsPath: rel(resultsFile), imgRel });
  fs.writeFileSync(mdFile, withSection(fs.existsSync(mdFile) ? fs.readFileSync(mdFile, "utf8") : "", section));
  const charts = [
    { file: path.join(imgDir, "load-cycles.png"), svg: barChartSvg(results, [
      { name: "completed cycles/s", color: "#3b6fd4", value: (r) => r.cycles_per_s },
      { name: "trivial endpoint req/s", color: "#bbbbbb", value: (r) => r.trivial?.requests_per_s }],
      "Completed job cycles per second vs the trivial endpoint", "per second") },
    { file: path.join(imgDir, "load-latency.png"), svg: barChartSvg(results, [
      { name: "poll p50", color: "#9db8ea", value: (r) => r.poll?.p50_ms },
      { name: "poll p99", color: "#3b6fd4", value: (r) => r.poll?.p99_ms },
      { name: "submit p50", color: "#f0c08c", value: (r) => r.submit?.p50_ms },
      { name: "submit p99", color: "#e08a2c", value: (r) => r.submit?.p99_ms }],
      "Poll and submit latency", "milliseconds") },
    { file: path.join(imgDir, "load-stores.png"), svg: barChartSvg(results, storeSeries(results, (r) => r?.cycles_per_s),
      "Completed job cycles per second, one series per store", "per second", nodeGroups(results),
      (g) => `${f0(g.nodes)} nodes`) },
  ];
  if (png) await renderPngs(charts);
  return { md: mdFile, pngs: png ? charts.map((c) => c.file) : [] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const dir = path.join(REPO, "bench/results");
  const resultsFile = opt("--results") || path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith("-load.json")).sort().at(-1));
  const out = await writeLoadReport({ resultsFile, mdFile: opt("--md", path.join(REPO, "docs/benchmarks.md")),
    imgDir: opt("--img-dir", path.join(REPO, "docs/img")), png: !args.includes("--no-png") });
  process.stdout.write(JSON.stringify(out) + "\n");
}
