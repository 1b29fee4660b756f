#!/usr/bin/env node
// Turns a bench results file (bench/results/*.json, written by bench.mjs) into docs/benchmarks.md and the PNG charts
// docs/img/bench-decode.png / bench-prefill.png (an SVG chart rendered and screenshotted by headless Chromium).
//   node e2e/bench/report.mjs [--results FILE] [--md FILE] [--img-dir DIR] [--no-png]
// Without --results: the newest full (non-quick, non-GPU) results file in bench/results, else the newest quick one.
// Uses only Node built-ins (no npm packages), so it runs in CI without the bench's dependencies.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadSection } from "./lib/load-section.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");

/** The issue-4 targets, per thread count, for our WASM SIMD engine. */
export const TARGETS = [
  { id: "decode_vs_wllama", label: "decode tok/s ≥ 1.25× wllama", metric: "decode_tok_s", vs: "wllama", min: 1.25 },
  { id: "prefill_vs_wllama", label: "prefill tok/s ≥ 1.0× wllama", metric: "prefill_tok_s", vs: "wllama", min: 1.0 },
  { id: "decode_vs_native", label: "decode tok/s ≥ 0.7× native llama.cpp", metric: "decode_tok_s", vs: "native", min: 0.7 },
  { id: "memory_vs_file", label: "peak browser memory ≤ 1.2× GGUF file size", metric: "peak_mem_mib", vs: "file", max: 1.2 },
];

export const METRICS = ["load_ms", "ttft_ms", "prefill_tok_s", "decode_tok_s", "peak_mem_mib", "max_process_mib"];

export function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * The memory figure of a run. Browser engines: the peak of RssAnon + RssShmem summed over all Chromium processes
 * (what the browser owns; shared libraries left out). Native: the node process's peak RSS (one process, so nothing
 * is double counted; it includes the memory-mapped model pages).
 */
export function peakMemMib(run, variant) {
  const m = run.memory;
  if (!m) return null;
  if (variant?.where === "node") return m.process_vmhwm_mib ?? m.peak_rss_mib ?? null;
  return m.peak_anon_shmem_mib ?? m.peak_pss_mib ?? null;
}

/**
 * Medians per (quant, variant) over the successful runs.
 * @returns {Array<{quant, variant, engine, threads, label, runs, ok, errors, load_ms, ttft_ms, prefill_tok_s,
 *   decode_tok_s, peak_mem_mib, mem_vs_file}>} in results.variants order, quants in results.models order
 */
export function aggregate(results) {
  const rows = [];
  for (const model of results.models) {
    for (const v of results.variants) {
      const runs = results.runs.filter((r) => r.quant === model.quant && r.variant === v.id);
      if (!runs.length) continue;
      const ok = runs.filter((r) => r.ok);
      const row = { quant: model.quant, variant: v.id, engine: v.engine, threads: v.threads, label: v.label,
        not_speed: !!v.not_speed, runs: runs.length, ok: ok.length,
        errors: [...new Set(runs.filter((r) => !r.ok).map((r) => r.error))] };
      for (const m of METRICS) {
        row[m] = median(ok.map((r) => (m === "peak_mem_mib" ? peakMemMib(r, v)
          : m === "max_process_mib" ? r.memory?.max_process_hwm_mib ?? null : r[m])));
      }
      row.generated_tokens = median(ok.map((r) => r.generated_tokens));
      row.weight_bytes_per_token = median(ok.map((r) => r.weight_bytes_per_token ?? r.raw?.counters?.weight_bytes_per_token ?? null));
      row.prefill_weight_bytes_per_token = median(ok.map((r) => r.raw?.counters?.prefill_weight_bytes_per_token ?? null));
      row.mem_vs_file = row.peak_mem_mib != null ? row.peak_mem_mib / (model.bytes / 1048576) : null;
      rows.push(row);
    }
  }
  return rows;
}

/**
 * Median over rounds of ours / other for metric, each ratio from the two engines' runs of one round (the bench runs
 * them back to back, so host drift between rounds cancels out); null when no round has both.
 */
export function pairedRatio(results, quant, threads, other, metric) {
  const runOf = (engine, round) => results.runs.find((r) => r.ok && r.quant === quant && r.round === round
    && results.variants.find((v) => v.id === r.variant && v.engine === engine && v.threads === threads));
  const ratios = [];
  for (const round of new Set(results.runs.map((r) => r.round))) {
    const a = runOf("wasm", round)?.[metric], b = runOf(other, round)?.[metric];
    if (a != null && b > 0) ratios.push(a / b);
  }
  return median(ratios);
}

/**
 * Target ratios for our WASM engine at each thread count and quant: value is the median of per-round paired ratios
 * (pairedRatio), ofMedians the ratio of the two engines' medians; null when a side is missing.
 */
export function targetRatios(results, rows) {
  const out = [];
  const find = (quant, engine, threads) => rows.find((r) => r.quant === quant && r.engine === engine && r.threads === threads);
  for (const model of results.models) {
    const threadCounts = [...new Set(rows.filter((r) => r.quant === model.quant && r.engine === "wasm").map((r) => r.threads))];
    for (const t of threadCounts.sort()) {
      const ours = find(model.quant, "wasm", t);
      for (const tg of TARGETS) {
        let value = null, ofMedians = null, why = null;
        if (tg.vs === "file") {
          value = ours.mem_vs_file;
          if (value == null) why = "our engine not measured";
        } else {
          const other = find(model.quant, tg.vs, t);
          const a = ours?.[tg.metric], b = other?.[tg.metric];
          if (a != null && b != null && b > 0) {
            ofMedians = a / b;
            value = pairedRatio(results, model.quant, t, tg.vs, tg.metric) ?? ofMedians;
          } else why = a == null ? "our engine not measured" : `${tg.vs} not measured`;
        }
        const pass = value == null ? null : tg.min != null ? value >= tg.min : value <= tg.max;
        out.push({ quant: model.quant, threads: t, target: tg.id, label: tg.label, value, ofMedians, pass, why });
      }
    }
  }
  return out;
}

const fmt = (x, digits = 1) => (x == null ? "—" : Number(x).toFixed(digits));
const fmtInt = (x) => (x == null ? "—" : String(Math.round(x)));
const esc = (s) => String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(results, { resultsPath, imgRel = "img" } = {}) {
  const rows = aggregate(results);
  const ratios = targetRatios(results, rows);
  const m = results.machine, ver = results.versions, s = results.settings;
  const L = [];
  L.push("# Inference benchmarks", "");
  L.push(`<!-- Generated by e2e/bench/report.mjs from ${resultsPath}; do not edit by hand, except the section `
    + `"${KEPT_HEADING.slice(3)}" at the end, which a regeneration keeps. -->`, "");
  if (results.quick) {
    L.push("> **Quick smoke run** (`--quick`: one run each, short prompt and decode). These numbers only show that the",
      "> harness works; they are not benchmark figures.", "");
  }
  const load = m.loadavg_start?.[0];
  if (load != null && m.cores && load > m.cores * 0.5) {
    L.push(`> **Busy machine**: the 1-minute load average was ${fmt(load, 2)} on ${m.cores} cores when the bench`,
      "> started. Figures taken on a busy machine are not representative; rerun on a quiet one.", "");
  }
  L.push(`Results file: \`${resultsPath}\`. Command: \`${results.command}\`.`, "");
  L.push("## Setup", "");
  L.push(`- Machine: ${m.cpu_model}, ${m.cores} cores, ${fmtInt(m.memory_mib)} MiB memory, ${m.os}`
    + (m.gpu ? `; GPU: ${esc(m.gpu.summary || JSON.stringify(m.gpu))}` : "; no GPU (WebGPU runs on SwiftShader)"));
  L.push(`- Started ${results.started_at}, finished ${results.finished_at}; load average at start ${(m.loadavg_start || []).map((x) => fmt(x, 2)).join(" / ")}, at end ${(m.loadavg_end || []).map((x) => fmt(x, 2)).join(" / ")}`);
  L.push(`- Versions: Chromium ${ver.chromium}, wllama ${ver.wllama} (libllama ${ver.wllama_libllama ?? "?"}),`
    + ` node-llama-cpp ${ver.node_llama_cpp} (llama.cpp ${ver.llama_cpp ?? "?"}), Node ${ver.node},`
    + ` Earn Idle commit ${ver.git_commit}${ver.git_dirty ? " (with uncommitted changes)" : ""}`);
  L.push(`- Models (synthetic full-size Llama-3.2-1B, real Llama 3 vocabulary, random weights): `
    + results.models.map((x) => `${x.quant} ${fmt(x.bytes / 1048576, 0)} MiB (\`${x.file}\`)`).join(", "));
  L.push(`- Workload: a ${s.prompt_tokens}-token prompt (BOS included), ${s.decode_tokens} greedy tokens; before`
    + ` the measured generation every run loads the model and generates ${s.warmup.tokens} token(s) from`
    + ` "${s.warmup.text}" (warm-up); ${s.runs} run(s) per engine, engines back to back per thread count,`
    + ` order reversed every other round; ${s.banned_token_count} tokens banned for every engine (invalid UTF-8 alone,`
    + " end-of-generation and other special tokens) so each run decodes the full length."
    + (s.wllama_decode_tokens != null && s.wllama_decode_tokens !== s.decode_tokens
      ? ` wllama decodes ${s.wllama_decode_tokens} tokens instead (\`--wllama-decode-tokens\`, to keep the bench's`
        + " duration in bounds; its decode tok/s is per token, and the shorter context only favours it)." : ""));
  L.push("");
  L.push("## Results (medians)", "");
  L.push("| model | engine | threads | load ms | TTFT ms | prefill tok/s | decode tok/s | peak memory MiB | × file | largest process MiB | runs ok |");
  L.push("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const label = r.not_speed ? `${r.label} ¹` : r.label;
    const thr = r.threads ?? "—";
    if (!r.ok) {
      L.push(`| ${r.quant} | ${label} | ${thr} | **failed** | | | | | | | 0/${r.runs} |`);
      continue;
    }
    L.push(`| ${r.quant} | ${label} | ${thr} | ${fmtInt(r.load_ms)} | ${fmtInt(r.ttft_ms)} | ${fmt(r.prefill_tok_s, 2)} |`
      + ` ${fmt(r.decode_tok_s, 2)} | ${fmtInt(r.peak_mem_mib)} | ${fmt(r.mem_vs_file, 2)} | ${fmtInt(r.max_process_mib)} |`
      + ` ${r.ok}/${r.runs} |`);
  }
  L.push("");
  if (rows.some((r) => r.not_speed)) {
    L.push("¹ WebGPU on this machine runs on SwiftShader (a CPU emulation of a GPU): recorded to show it works, not a"
      + " speed figure; run once per model (first round only).", "");
  }
  const asked = (r) => (r.engine === "wllama" ? s.wllama_decode_tokens ?? s.decode_tokens : s.decode_tokens);
  const short = rows.filter((r) => r.ok && r.generated_tokens != null && r.generated_tokens < asked(r) && !r.not_speed);
  if (short.length) {
    L.push("Stopped early (fewer generated tokens than asked; decode tok/s is per generated token): "
      + short.map((r) => `${r.quant} ${r.variant} (${r.generated_tokens})`).join(", ") + ".", "");
  }
  const failed = rows.filter((r) => r.errors.length);
  if (failed.length) {
    L.push("Failures:", "");
    for (const r of failed) {
      L.push(`- ${r.quant} ${r.variant}: ${esc(r.errors[0].split("\n").slice(0, 3).join(" ")).slice(0, 400)}`);
    }
    L.push("");
  }
  const idle = results.machine?.idle_browser_mib;
  const inBrowser = rows.filter((r) => r.ok && r.peak_mem_mib != null && r.engine !== "native");
  if (typeof idle === "number" && inBrowser.length) {
    L.push("## Memory above the idle browser", "");
    L.push(`The same headless Chromium with only the probe page open holds ${fmtInt(idle)} MiB (RssAnon + RssShmem`,
      "over all its processes, measured once at the start, no engine loaded). What each engine adds on top of it,",
      "against the file size (the model itself should be about 1.0×):", "");
    L.push("| model | engine | threads | peak MiB | above idle MiB | above idle × file |");
    L.push("|---|---|---|---|---|---|");
    for (const r of inBrowser) {
      const fileMib = results.models.find((m) => m.quant === r.quant).bytes / 1048576;
      const above = r.peak_mem_mib - idle;
      L.push(`| ${r.quant} | ${esc(r.label)} | ${r.threads ?? "—"} | ${fmtInt(r.peak_mem_mib)} | ${fmtInt(above)} |`
        + ` ${fmt(above / fileMib, 2)} |`);
    }
    L.push("");
  }
  const traffic = rows.filter((r) => r.ok && r.weight_bytes_per_token != null);
  if (traffic.length) {
    L.push("## Weight traffic per token (our engines)", "");
    L.push("Bytes of weights each generated token reads (the engines' `weight_bytes_per_token` counter: every layer",
      "tensor, the LM head and one embedding row) against the GGUF file size. llama.cpp (wllama, native) does not",
      "report it; a one-token forward pass reads every weight once there too.", "");
    L.push("| model | engine | threads | weight MiB / token | file MiB | / file | prefill weight MiB / token |", "|---|---|---|---|---|---|---|");
    for (const r of traffic) {
      const fileMib = results.models.find((x) => x.quant === r.quant).bytes / 1048576;
      L.push(`| ${r.quant} | ${r.label} | ${r.threads ?? "—"} | ${fmt(r.weight_bytes_per_token / 1048576, 1)} |`
        + ` ${fmt(fileMib, 1)} | ${fmt(r.weight_bytes_per_token / 1048576 / fileMib, 3)} |`
        + ` ${r.prefill_weight_bytes_per_token != null ? fmt(r.prefill_weight_bytes_per_token / 1048576, 1) : "—"} |`);
    }
    L.push("");
  }
  const wb = ver.wllama_build;
  if (wb) {
    L.push(`wllama's wasm (\`${wb.file}\`, ${fmt(wb.bytes / 1048576, 1)} MiB) holds ${wb.i32x4_dot_i16x8_s}`
      + " `i32x4.dot_i16x8_s` instructions"
      + (wb.i32x4_dot_i16x8_s === 0
        ? ": llama.cpp's hand-written WASM SIMD quant kernels (ggml-cpu/arch/wasm/quants.c, which use that instruction"
          + " in their Q4_0/Q8_0 and K-quant dots) are not in this build, so its quantized dot products are ggml's generic C"
          + " code, auto-vectorized by the compiler where it can. The wllama rows show llama.cpp in the browser as wllama"
          + " ships it, not what llama.cpp's WASM SIMD kernels could do; native llama.cpp is the stronger anchor."
        : "."), "");
  }
  L.push("## Targets (issue 4, our WASM SIMD engine, equal threads)", "");
  L.push("Speed ratios are the median over rounds of the ratio within a round: the bench runs ours, native and wllama"
    + " back to back at each thread count, so the host's drift between rounds (its memory bandwidth moves by tens of"
    + " percent within minutes) cancels out. The ratio of the two engines' medians is shown beside it.", "");
  L.push("| model | threads | target | measured (paired) | ratio of medians | status |", "|---|---|---|---|---|---|");
  const x = (v) => (v == null ? "—" : fmt(v, 2) + "×");
  for (const t of ratios) {
    const status = t.pass == null ? `not measured (${t.why})` : t.pass ? "met" : "**missed**";
    L.push(`| ${t.quant} | ${t.threads} | ${t.label} | ${x(t.value)} | ${x(t.ofMedians)} | ${status} |`);
  }
  L.push("");
  L.push("For reference, wllama and native llama.cpp against each other:", "");
  L.push("| model | threads | native / wllama decode | native / wllama prefill |", "|---|---|---|---|");
  for (const model of results.models) {
    for (const t of [...new Set(rows.filter((r) => r.engine === "native").map((r) => r.threads))].sort()) {
      const n = rows.find((r) => r.quant === model.quant && r.engine === "native" && r.threads === t);
      const w = rows.find((r) => r.quant === model.quant && r.engine === "wllama" && r.threads === t);
      const ratio = (a, b) => (a != null && b ? fmt(a / b, 1) + "×" : "—");
      L.push(`| ${model.quant} | ${t} | ${ratio(n?.decode_tok_s, w?.decode_tok_s)} | ${ratio(n?.prefill_tok_s, w?.prefill_tok_s)} |`);
    }
  }
  L.push("");
  L.push("## Charts", "");
  L.push(`![decode tokens per second](${imgRel}/bench-decode.png)`, "");
  L.push(`![prefill tokens per second](${imgRel}/bench-prefill.png)`, "");
  L.push(...METHOD.split("\n"));
  return L.join("\n");
}

const METHOD = `## How it is measured

- Every run is a fresh process: a new headless Chromium (the project's flags file, chromium-flags.txt, and a fresh profile) for the browser engines, a
  new \`node\` process for native llama.cpp, so load time and peak memory belong to that run.
- **load ms**: from the start of loading to ready-to-generate. Browser engines fetch the GGUF from a local server
  (127.0.0.1, pages served with COOP/COEP so they are cross-origin isolated and may use threads); native maps the
  file (mmap) and creates its context. The file is read once before the bench so it sits in the page cache.
- **TTFT** (time to first token): from the request to the first generated token of the measured generation. It
  covers the whole prompt pass. **prefill tok/s** = prompt tokens / TTFT.
- **decode tok/s** = (generated tokens − 1) / (time from the first to the last generated token): the rate of the
  one-token forward passes, with sampling and the engine's own overhead included.
- **peak memory**, browser engines: the largest sum over all processes of that Chromium (browser, GPU, network,
  renderers) of RssAnon + RssShmem from \`/proc/PID/status\`, sampled every 250 ms: the memory the browser owns
  (heaps, wasm memories, blobs, shared memory), without file-backed pages such as the shared libraries every
  Chromium process maps. Native: the node process's peak RSS (VmHWM; one process, including the pages of the
  memory-mapped model). The results file also keeps the summed RSS and every process's VmHWM. (PSS is not used:
  reading smaps_rollup of a renderer with a 64-bit wasm memory reservation takes ~0.1 s, which would load the
  machine being measured.)
- **× file**: peak memory / GGUF file size (the issue's browser-memory target uses this figure, so it includes the
  browser's own baseline: browser, GPU, network and renderer processes).
- **largest process**: the largest single-process peak RSS (VmHWM), usually the renderer holding the model.
- Medians over the successful runs. In each round the engines at one thread count run back to back, ours and native
  adjacent (even rounds ours, native, wllama; odd rounds the reverse; thread counts alternate too), and the target
  ratios are the median of the per-round ratios, so drift of the host between rounds cancels out (the ratio of
  the medians is shown beside them).
- wllama is driven through \`createCompletion\` (stream) with \`temperature: 0\`, \`n_threads\` as listed,
  \`n_gpu_layers: 0\`, flash attention off, the banned tokens as \`logit_bias\` -1000; native through
  node-llama-cpp's \`sequence.evaluate\` with \`temperature: 0\` and the same tokens banned (\`TokenBias\`);
  our engines through \`./earnidle infer --engine wasm|webgpu\` (headless Chromium, memory of the Chromium
  processes under it). Our WASM SIMD engine takes the prompt in batches of up to 32 tokens (the integer mat-muls,
  bit-identical to token-by-token steps), the first call one token; wllama and native take it in one batch.
- wllama's configuration was audited (issue 4): it loads its only build, \`esm/wasm/wllama.wasm\` (SIMD128,
  memory64, JSPI, pthreads; the package has no non-SIMD build, the "compat" build is another package); the page is
  cross-origin isolated and wllama reports \`multithread: true\` with 2 threads; \`n_batch\` is 512 (the whole
  prompt in one batch). Its own counters (\`engine_timings\` in the results file) agree with the wall clock, and its
  prompt pass, which samples nothing, costs 1.15 s per token against 1.59 s per decoded token (Q4_0, 1 thread,
  2026-11-22), so sampling over the 128K vocabulary, the 1,608-entry logit bias and the per-token JSON are not where
  most of the time goes (a paired run without the logit bias was within noise). The time is in the quantized dot
  products: the 8.4 MiB wasm binary contains no \`i32x4.dot_i16x8_s\` (our kernels: 128–136), the instruction that
  llama.cpp's WASM SIMD quant kernels (ggml-cpu/arch/wasm/quants.c) use in their Q4_0/Q8_0 and K-quant dots, so those
  kernels are not compiled in and ggml's generic C code runs instead, auto-vectorized where the compiler can. This
  is llama.cpp in the browser as wllama 3.8.1 ships it, not what llama.cpp's WASM kernels could do; native llama.cpp
  is the stronger anchor. wllama streams the first token's text together with the second's, so its decode rate over
  n tokens counts n − 1 tokens in n − 2 intervals: up to 1/(n − 2) in wllama's favour (1.6% at 64 tokens).

## Reproduce

\`\`\`sh
./earnidle bench            # full bench (several minutes per engine on 2 cores; use a quiet machine)
./earnidle bench --quick    # smoke test: 1 run each, short prompt and decode
node e2e/bench/report.mjs --results bench/results/FILE.json   # regenerate this page from a results file
\`\`\`

Options: \`--runs N\`, \`--quants q4_0,q4_k_m\`, \`--engines wasm-1t,wllama-1t,...\`, \`--prompt-tokens N\`,
\`--decode-tokens N\`, \`--wllama-decode-tokens N\` (wllama only; a 3-run bench with 64 wllama decode tokens takes
about 47 min on 2 cores, with 16 about 38 min). Models are synthesized into \`data/bench/\` when missing
(\`./earnidle model synth --shape llama-3.2-1b --type q4_0|q4_k_m --seed 1\`).

## On a machine with a GPU

\`\`\`sh
./earnidle bench --gpu      # or: e2e/bench/gpu-bench.sh
\`\`\`

\`--gpu\` starts Chromium with a hardware WebGPU adapter instead of SwiftShader (Vulkan; no
\`--enable-unsafe-swiftshader\`), records the adapter (\`navigator.gpu\` adapter info) and \`nvidia-smi\` output
under \`machine.gpu\` in the results file, adds llama.cpp's own WebGPU backend (wllama with all layers offloaded,
row \`wllama-webgpu\`) as the GPU anchor, and labels our WebGPU row as a speed figure. It fails fast if the adapter
it gets is a fallback (software) adapter. Our engines' Chromium (\`./earnidle infer\`) gets the same extra flags
through \`EARNIDLE_CHROMIUM_EXTRA_FLAGS\` (read by \`BrowserInfer\`, space-separated).

On a GPU machine without a browser, \`e2e/bench/gpu-node.mjs\` runs our WebGPU engine, unchanged, in Node over
Dawn's Node bindings (the WebGPU implementation inside Chromium), after checking it against the JVM reference on
that GPU, and runs native llama.cpp (its Vulkan backend, all layers offloaded) on the same GPU as the anchor; its
figures (an H100 so far) are in [benchmarks-gpu-node.md](benchmarks-gpu-node.md).
`;

// ---------- charts ----------

const COLORS = { q4_0: "#3b6fd4", q4_k_m: "#e08a2c" };

/** An SVG grouped bar chart of `metric` per variant (one bar per quant). */
export function chartSvg(results, metric, title) {
  const rows = aggregate(results);
  const variants = results.variants.filter((v) => rows.some((r) => r.variant === v.id));
  const quants = results.models.map((x) => x.quant);
  const W = 1100, H = 520, left = 70, right = 20, top = 70, bottom = 120;
  const vals = rows.map((r) => r[metric]).filter((x) => x != null);
  const maxV = niceMax(vals.length ? Math.max(...vals) : 1);
  const gw = (W - left - right) / Math.max(variants.length, 1);
  const bw = Math.min(40, (gw - 20) / quants.length);
  const y = (v) => top + (H - top - bottom) * (1 - v / maxV);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ddd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="3"/></pattern></defs>`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="28" font-size="20" text-anchor="middle" font-weight="bold">${xml(title)}</text>`);
  out.push(`<text x="${W / 2}" y="50" font-size="13" text-anchor="middle" fill="#555">${xml(subtitle(results))}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (maxV * i) / 5, yy = y(v);
    out.push(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="#e4e4e4"/>`);
    const axisDigits = maxV / 5 >= 1 && Number.isInteger(maxV / 5) ? 0 : maxV / 5 >= 0.1 ? 1 : 2;
    out.push(`<text x="${left - 8}" y="${yy + 4}" font-size="12" text-anchor="end" fill="#444">${v.toFixed(axisDigits)}</text>`);
  }
  out.push(`<text x="18" y="${(top + H - bottom) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${(top + H - bottom) / 2})">tokens / s (median)</text>`);
  variants.forEach((v, i) => {
    const gx = left + i * gw + (gw - bw * quants.length) / 2;
    quants.forEach((q, j) => {
      const r = rows.find((x) => x.variant === v.id && x.quant === q);
      const x = gx + j * bw;
      const val = r?.[metric];
      if (val == null) {
        out.push(`<text x="${x + bw / 2}" y="${y(0) - 6}" font-size="11" text-anchor="middle" fill="#b00">n/a</text>`);
        return;
      }
      const fill = v.not_speed ? "url(#hatch)" : COLORS[q] || "#777";
      out.push(`<rect x="${x + 2}" y="${y(val)}" width="${bw - 4}" height="${y(0) - y(val)}" fill="${fill}" stroke="${COLORS[q] || "#777"}"/>`);
      out.push(`<text x="${x + bw / 2}" y="${y(val) - 5}" font-size="11" text-anchor="middle">${trim(val)}</text>`);
    });
    const cx = left + i * gw + gw / 2;
    const thr = v.threads ? `${v.threads} thread${v.threads > 1 ? "s" : ""}` : "";
    const name = v.not_speed ? `${v.label} ¹` : v.label;
    wrap(name, 18).forEach((line, k) => out.push(`<text x="${cx}" y="${H - bottom + 20 + 15 * k}" font-size="12" text-anchor="middle">${xml(line)}</text>`));
    out.push(`<text x="${cx}" y="${H - bottom + 20 + 15 * wrap(name, 18).length}" font-size="12" text-anchor="middle" fill="#555">${thr}</text>`);
  });
  out.push(`<line x1="${left}" x2="${W - right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  quants.forEach((q, j) => {
    out.push(`<rect x="${W - right - 230 + j * 110}" y="${top - 14}" width="14" height="14" fill="${COLORS[q] || "#777"}"/>`);
    out.push(`<text x="${W - right - 210 + j * 110}" y="${top - 2}" font-size="13">${xml(q.toUpperCase())}</text>`);
  });
  if (variants.some((v) => v.not_speed)) {
    out.push(`<text x="${left}" y="${H - 12}" font-size="12" fill="#555">¹ hatched: WebGPU on SwiftShader (CPU emulation), not a speed figure. n/a: engine did not run.</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}

function subtitle(results) {
  const s = results.settings, m = results.machine;
  return `${s.prompt_tokens}-token prompt, ${s.decode_tokens} greedy tokens, medians of ${s.runs}; ${m.cores} cores, `
    + `${m.cpu_model}${results.quick ? " — QUICK SMOKE RUN, not representative" : ""}`;
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (k * p >= v * 1.08) return k * p;
  return 10 * p;
}
function trim(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function xml(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
function wrap(s, n) {
  const words = s.split(" "), lines = [];
  let cur = "";
  for (const w of words) {
    if (cur && (cur + " " + w).length > n) { lines.push(cur); cur = w; } else cur = cur ? cur + " " + w : w;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Renders each SVG in headless Chromium and writes PNG screenshots. */
export async function renderPngs(charts) {
  const { Chromium } = await import("./lib/chromium.mjs");
  const browser = await Chromium.launch({ windowSize: "1100,520" });
  try {
    for (const { svg, file } of charts) {
      const html = `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;overflow:hidden;`
        + `background:white}svg{display:block}</style></head><body>${svg}</body></html>`;
      const page = await browser.newPage("data:text/html;base64," + Buffer.from(html).toString("base64"),
        { width: 1100, height: 520 });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, await page.screenshot({ x: 0, y: 0, width: 1100, height: 520 }));
      await page.send("Page.close").catch(() => {});
    }
  } finally {
    await browser.close();
  }
}

/** Newest full results file in dir (names sort by date), else the newest quick one. */
export function defaultResultsFile(dir) {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
  const cpu = files.filter((f) => !f.includes("-gpu"));
  const full = cpu.filter((f) => !f.includes("quick"));
  const pick = (full.length ? full : cpu).at(-1);
  if (!pick) throw new Error(`no results in ${dir}; run ./earnidle bench first`);
  return path.join(dir, pick);
}

/** The heading of the page's last section, written by hand from e2e test runs (not this bench): kept as it is. */
export const KEPT_HEADING = "## Through the network: the full-size 1B in the widget";

/** The kept section of a page (from its heading to the next section or the end), or "". */
export function keptSection(md) {
  const start = md.indexOf("\n" + KEPT_HEADING + "\n");
  if (start < 0) return "";
  const rest = md.slice(start + 1);
  const next = rest.indexOf("\n## ", KEPT_HEADING.length);
  return (next < 0 ? rest : rest.slice(0, next + 1)).trimEnd() + "\n";
}

export async function writeReport({ resultsFile, mdFile, imgDir, png = true }) {
  const results = JSON.parse(fs.readFileSync(resultsFile, "utf8"));
  const rel = (p) => path.relative(REPO, path.resolve(p)).split(path.sep).join("/");
  const imgRel = path.relative(path.dirname(path.resolve(mdFile)), path.resolve(imgDir)).split(path.sep).join("/") || ".";
  const md = renderMarkdown(results, { resultsPath: rel(resultsFile), imgRel });
  const before = fs.existsSync(mdFile) ? fs.readFileSync(mdFile, "utf8") : "";
  const kept = keptSection(before);
  const load = loadSection(before); // the "Load" section, load-report.mjs's
  fs.mkdirSync(path.dirname(mdFile), { recursive: true });
  fs.writeFileSync(mdFile, (md.endsWith("\n") ? md : md + "\n") + (kept ? "\n" + kept : "") + (load ? "\n" + load : ""));
  const charts = [
    { svg: chartSvg(results, "decode_tok_s", "Decode speed per engine"), file: path.join(imgDir, "bench-decode.png") },
    { svg: chartSvg(results, "prefill_tok_s", "Prefill speed per engine"), file: path.join(imgDir, "bench-prefill.png") },
  ];
  if (png) await renderPngs(charts);
  return { md: mdFile, pngs: png ? charts.map((c) => c.file) : [] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const resultsFile = opt("--results") || defaultResultsFile(path.join(REPO, "bench/results"));
  const out = await writeReport({ resultsFile, mdFile: opt("--md", path.join(REPO, "docs/benchmarks.md")),
    imgDir: opt("--img-dir", path.join(REPO, "docs/img")), png: !args.includes("--no-png") });
  process.stdout.write(JSON.stringify(out) + "\n");
}
