// Fast checks of the harness's pure parts (no browser, no model): `npm test` in e2e/bench.
// The report generation end to end (Markdown + PNG charts) is tested by e2e's BenchReportTest (JUnit, in CI).
import assert from "node:assert/strict";
import fs from "node:fs";
import test from "node:test";
import { bannedTokenIds } from "../lib/gguf.mjs";
import { normalizeOurs, roundOrder } from "../lib/engines.mjs";
import { aggregate, median, targetRatios, defaultResultsFile, renderMarkdown } from "../report.mjs";
import os from "node:os";
import path from "node:path";

const fixture = JSON.parse(fs.readFileSync(new URL("./fixtures/results-fixture.json", import.meta.url), "utf8"));

test("median: odd, even, ignores missing values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([null, 5, undefined, NaN]), 5);
  assert.equal(median([]), null);
});

test("aggregate: medians over successful runs only", () => {
  const rows = aggregate(fixture);
  const w2 = rows.find((r) => r.quant === "q4_0" && r.variant === "wasm-2t");
  assert.deepEqual([w2.ok, w2.runs, w2.decode_tok_s, w2.prefill_tok_s], [2, 3, 4.5, 8.5]);
  const gpu = rows.find((r) => r.variant === "webgpu");
  assert.equal(gpu.ok, 0);
  assert.equal(gpu.decode_tok_s, null);
  assert.equal(gpu.not_speed, true);
});

test("targets: paired ratios within rounds at equal threads, missing sides are not measured", () => {
  const t = targetRatios(fixture, aggregate(fixture));
  const get = (q, th, id) => t.find((x) => x.quant === q && x.threads === th && x.target === id);
  // rounds: 2/1, 3/2, 2.5/3 -> median 1.5; the ratio of the medians is 2.5/2
  assert.equal(get("q4_0", 1, "decode_vs_wllama").value, 1.5);
  assert.equal(get("q4_0", 1, "decode_vs_wllama").ofMedians, 1.25);
  assert.equal(get("q4_0", 1, "decode_vs_wllama").pass, true);
  // wasm-2t failed in round 1: the pairs are rounds 0 and 2 (4/10, 5/10)
  assert.equal(get("q4_0", 1, "memory_vs_file").pass, false);
  assert.equal(get("q4_0", 2, "decode_vs_native").value, 0.45);
  assert.equal(get("q4_k_m", 1, "decode_vs_native").value, null);
  assert.equal(get("q4_k_m", 1, "decode_vs_native").why, "our engine not measured");
});

test("round order: ours and native back to back at each thread count, first and last in turn", () => {
  const ids = (round) => roundOrder(fixture.variants, round).map((v) => v.id);
  assert.deepEqual(ids(0), ["wasm-1t", "native-1t", "wllama-1t", "wasm-2t", "native-2t", "wllama-2t", "webgpu"]);
  assert.deepEqual(ids(1), ["wllama-2t", "native-2t", "wasm-2t", "wllama-1t", "native-1t", "wasm-1t", "webgpu"]);
});

test("banned tokens: non-normal types, partial UTF-8, empty", () => {
  // byte-level stand-ins: "Ġ" is the space byte, "Ã" + "©" are the bytes C3 A9 ("é"), "Ã" alone is C3 (partial)
  const meta = { "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": ["a", "Ġthe", "Ã©", "Ã", "", "<|eot_id|>"],
    "tokenizer.ggml.token_type": [1, 1, 1, 1, 1, 3] };
  assert.deepEqual(bannedTokenIds(meta), [3, 4, 5]);
});

test("our CLI's JSON maps onto the common record", () => {
  const raw = { engine: "wasm-simd-relaxed-mt2", prompt_ids: [128000, 6151], ids: [1, 2, 3], load_ms: 6338.67,
    prefill_ms: 437.01, decode_ms: 228.05, decode_tokens_per_s: 8.77 };
  const r = normalizeOurs(raw, { prompt: { tokens: 128 } });
  assert.deepEqual(r, { engine: "wasm-simd-relaxed-mt2", load_ms: 6338.67, ttft_ms: 437.01, decode_ms: 228.05,
    prompt_tokens: 2, generated_tokens: 3 });
});

test("default results file: newest full CPU run, else newest quick", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"));
  try {
    for (const f of ["2026-11-20-0100.json", "2026-11-21-0100-quick.json", "2026-11-22-0100-gpu.json"]) {
      fs.writeFileSync(path.join(dir, f), "{}");
    }
    assert.equal(path.basename(defaultResultsFile(dir)), "2026-11-20-0100.json");
    fs.rmSync(path.join(dir, "2026-11-20-0100.json"));
    assert.equal(path.basename(defaultResultsFile(dir)), "2026-11-21-0100-quick.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("memory above the idle browser: only when the baseline was measured, browser engines only", () => {
  assert.ok(!renderMarkdown(fixture, {}).includes("## Memory above the idle browser"));
  const withIdle = structuredClone(fixture);
  withIdle.machine.idle_browser_mib = 50;
  const md = renderMarkdown(withIdle, {});
  assert.ok(md.includes("holds 50 MiB"));
  // q4_0 (100 MiB file in the fixture), ours at 1 thread: median peak 125 MiB -> 75 MiB above idle = 0.75x
  assert.ok(md.includes("| q4_0 | Earn Idle WASM SIMD | 1 | 125 | 75 | 0.75 |"), md);
  const section = md.slice(md.indexOf("## Memory above"), md.indexOf("## Targets"));
  assert.ok(!section.includes("native"), "native llama.cpp is not a browser engine");
});
