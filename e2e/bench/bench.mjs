#!/usr/bin/env node
// Earn Idle inference bench (issue 4): our WASM SIMD engine (1 and 2 threads) and WebGPU engine, wllama 3.8.1
// (1 and 2 threads) in the same headless Chromium, and native llama.cpp via node-llama-cpp (1 and 2 threads), on
// the same synthetic full-size Llama-3.2-1B GGUFs (Q4_0, Q4_K_M), same prompt, greedy decode, medians over runs.
// Run through the launcher, which synthesizes the models and installs this folder:  ./earnidle bench [--quick]
//   node bench.mjs --model q4_0=FILE --model q4_k_m=FILE [--quick] [--runs N] [--prompt-tokens N]
//     [--decode-tokens N] [--engines id,id] [--quants q,q] [--gpu] [--out DIR] [--md FILE] [--img-dir DIR] [--command TEXT]
//     [--infer-cmd "CMD ARGS"]  (how to run our engines; default "<repo>/earnidle infer", which prints one JSON line)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Chromium } from "./lib/chromium.mjs";
import { REPO, VARIANTS, GPU_VARIANTS, roundOrder, runVariant } from "./lib/engines.mjs";
import { readGgufMetadata, bannedTokenIds } from "./lib/gguf.mjs";
import { buildPrompt, WARMUP_TEXT } from "./lib/prompt.mjs";
import { startServer } from "./lib/server.mjs";
import { TreeMemorySampler } from "./lib/procmem.mjs";
import { writeReport } from "./report.mjs";

const HERE = path.dirname(new URL(import.meta.url).pathname);

function parseArgs(argv) {
  const a = { models: [], quick: false, gpu: false, runs: null, promptTokens: null, decodeTokens: null,
    engines: null, out: path.join(REPO, "bench/results"), md: null, imgDir: null, command: null, report: true,
    timeoutS: 1800 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    switch (k) {
      case "--model": { const [q, f] = v().split("="); if (!f) throw new Error("--model QUANT=FILE"); a.models.push({ quant: q, file: f }); break; }
      case "--quick": a.quick = true; break;
      case "--gpu": a.gpu = true; break;
      case "--runs": a.runs = posInt(v(), k); break;
      case "--prompt-tokens": a.promptTokens = posInt(v(), k); break;
      case "--decode-tokens": a.decodeTokens = posInt(v(), k); break;
      case "--wllama-decode-tokens": a.wllamaDecodeTokens = posInt(v(), k); break;
      case "--engines": a.engines = v().split(",").filter(Boolean); break;
      case "--quants": a.quants = v().split(",").filter(Boolean); break;
      case "--out": a.out = path.resolve(v()); break;
      case "--md": a.md = path.resolve(v()); break;
      case "--img-dir": a.imgDir = path.resolve(v()); break;
      case "--command": a.command = v(); break;
      case "--no-report": a.report = false; break;
      case "--infer-cmd": a.inferCmd = v().split(" ").filter(Boolean); break;
      case "--timeout-s": a.timeoutS = posInt(v(), k); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (a.quants) {
    const unknown = a.quants.filter((q) => !a.models.some((m) => m.quant === q));
    if (unknown.length) throw new Error(`no --model for quant(s) ${unknown.join(", ")}`);
    a.models = a.models.filter((m) => a.quants.includes(m.quant));
  }
  if (!a.models.length) throw new Error("give at least one --model QUANT=FILE");
  // GPU runs get their own page so they never replace the CPU figures of docs/benchmarks.md
  a.md ??= path.join(REPO, a.gpu ? "docs/benchmarks-gpu.md" : "docs/benchmarks.md");
  a.imgDir ??= path.join(REPO, a.gpu ? "docs/img/gpu" : "docs/img");
  a.runs ??= a.quick ? 1 : 3;
  a.promptTokens ??= a.quick ? 16 : 128;
  a.decodeTokens ??= a.quick ? 4 : 64;
  // wllama decodes ~1 token/s on 2 cores: fewer decode tokens keep a 3-run bench within ~40 min (its decode rate is
  // per token; a shorter context only favours wllama)
  a.wllamaDecodeTokens ??= a.decodeTokens;
  return a;
}

/**
 * What the wllama wasm binary holds: counts of the SIMD opcodes of llama.cpp's hand-written WASM quant kernels
 * (ggml-cpu/arch/wasm/quants.c: i32x4.dot_i16x8_s in the q4_0/q8_0 and K-quant dots). wllama 3.8.1 ships none: its
 * build leaves arch/wasm out (probably ggml-cpu's CMake arch detection under Emscripten), so every quantized dot is
 * ggml's generic C.
 */
export function wasmSimdProbe(file) {
  let d;
  try { d = fs.readFileSync(file); } catch { return null; }
  const count = (bytes) => { let n = 0, i = -1; const b = Buffer.from(bytes); while ((i = d.indexOf(b, i + 1)) >= 0) n++; return n; };
  return { file: path.basename(file), bytes: d.length, i32x4_dot_i16x8_s: count([0xfd, 0xba, 0x01]),
    i16x8_extend_low_i8x16_s: count([0xfd, 0x87, 0x01]) };
}

function posInt(s, k) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${k} must be a positive integer`);
  return n;
}

function sh(cmd, args, opts = {}) {
  try { return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], ...opts }).trim(); }
  catch { return null; }
}

function machineInfo() {
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpu_model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    cores: Number(sh("nproc")) || os.availableParallelism(),
    logical_cpus: os.cpus().length,
    memory_mib: Math.round(os.totalmem() / 1048576),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
    loadavg_start: os.loadavg(),
    gpu: null,
  };
}

function pkgVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(HERE, "node_modules", name, "package.json"), "utf8")).version;
}

/** Chromium version and the WebGPU adapter it offers (and cross-origin isolation of our pages). */
async function probeBrowser(origin, gpu) {
  const browser = await Chromium.launch({ gpu });
  try {
    const version = await browser.send("Browser.getVersion");
    const sampler = new TreeMemorySampler(browser.pid, { intervalMs: 250 }).start();
    const page = await browser.newPage(`${origin}/bench/probe.html`);
    const info = await page.evaluate("window.probe()");
    await new Promise((r) => setTimeout(r, 3000)); // settle: the idle browser's own memory, no engine loaded
    const idle = sampler.stop();
    return { product: version.product, ...info, idle_browser_mib: idle.peak_anon_shmem_mib };
  } finally {
    await browser.close();
  }
}

function log(msg) { process.stderr.write(`bench: ${msg}\n`); }

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const machine = machineInfo();
  const command = args.command || ["node", "e2e/bench/bench.mjs", ...process.argv.slice(2)].join(" ");
  log(`${args.quick ? "QUICK smoke run" : "full run"}: ${args.runs} run(s), ${args.promptTokens}-token prompt,`
    + ` ${args.decodeTokens} decode tokens; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);

  let variants = [...VARIANTS, ...(args.gpu ? GPU_VARIANTS : [])].map((v) =>
    v.engine === "webgpu" && !args.gpu ? { ...v, not_speed: true } : { ...v });
  if (args.engines) {
    const unknown = args.engines.filter((id) => !variants.some((v) => v.id === id));
    if (unknown.length) throw new Error(`unknown engine(s) ${unknown.join(", ")}; known: ${variants.map((v) => v.id).join(", ")}`);
    variants = variants.filter((v) => args.engines.includes(v.id));
  }

  const models = args.models.map((m) => {
    const file = path.resolve(m.file);
    if (!fs.existsSync(file)) throw new Error(`model file ${file} is missing`);
    return { quant: m.quant, file, bytes: fs.statSync(file).size };
  });
  // page cache warm-up: read every model once so the first load is not a disk read
  for (const m of models) {
    const fd = fs.openSync(m.file, "r"), buf = Buffer.alloc(8 << 20);
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0) { /* read through */ }
    fs.closeSync(fd);
  }
  const meta = models.map((m) => readGgufMetadata(m.file).meta);
  const bannedIds = bannedTokenIds(meta[0]);
  for (let i = 1; i < meta.length; i++) {
    if (JSON.stringify(bannedTokenIds(meta[i])) !== JSON.stringify(bannedIds)) throw new Error("the models' vocabularies differ");
  }
  const prompt = await buildPrompt(models[0].file, args.promptTokens);
  // WebGPU on a software adapter (SwiftShader) is recorded for its structural counters, not timed: a full
  // 128-token prompt through a 1B model takes many minutes there, so it gets a short prompt and 2 decode tokens.
  const structuralPrompt = args.gpu ? prompt : await buildPrompt(models[0].file, Math.min(8, args.promptTokens));
  const warmup = { text: WARMUP_TEXT, tokens: args.quick ? 1 : 4 };
  log(`prompt: ${prompt.tokens} tokens; ${bannedIds.length} banned tokens`);

  const files = Object.fromEntries(models.map((m) => [`/models/${path.basename(m.file)}`, m.file]));
  const srv = await startServer({
    dirs: {
      "/bench/": path.join(HERE, "web"),
      "/wllama/": path.join(HERE, "node_modules/@wllama/wllama"),
    },
    files,
  });
  const results = {
    schema: "earnidle-bench/1",
    quick: args.quick,
    started_at: started.toISOString(),
    finished_at: null,
    command,
    machine,
    versions: {
      chromium: null, node: process.version, wllama: pkgVersion("@wllama/wllama"), wllama_libllama: null,
      node_llama_cpp: pkgVersion("node-llama-cpp"), llama_cpp: null,
      git_commit: sh("git", ["-C", REPO, "rev-parse", "--short=12", "HEAD"]),
      git_dirty: (sh("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"]) || "") !== "",
      wllama_build: wasmSimdProbe(path.join(HERE, "node_modules/@wllama/wllama/esm/wasm/wllama.wasm")),
    },
    settings: {
      prompt_tokens: prompt.tokens, decode_tokens: args.decodeTokens, runs: args.runs, warmup,
      wllama_decode_tokens: args.wllamaDecodeTokens,
      prompt_text: prompt.text, banned_token_count: bannedIds.length, n_ctx: 512, gpu_mode: args.gpu,
      chromium_flags: args.gpu ? "GPU_FLAGS (lib/chromium.mjs)" : "HEADLESS_FLAGS (lib/chromium.mjs, the flags of browser-node/src/main/resources/io/earnidle/node/cli/chromium-flags.txt)",
    },
    models: models.map((m) => ({ ...m, file: path.relative(REPO, m.file) })),
    variants,
    runs: [],
  };
  try {
    const probe = await probeBrowser(srv.origin, args.gpu);
    results.versions.chromium = probe.product;
    results.settings.cross_origin_isolated = probe.cross_origin_isolated;
    results.machine.idle_browser_mib = probe.idle_browser_mib;
    if (args.gpu) {
      results.machine.gpu = { webgpu_adapter: probe.webgpu, nvidia_smi: sh("nvidia-smi",
        ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]) };
      results.machine.gpu.summary = [results.machine.gpu.nvidia_smi, probe.webgpu?.info?.description,
        probe.webgpu?.info?.vendor].filter(Boolean).join("; ");
      if (!probe.webgpu || probe.webgpu.isFallbackAdapter) {
        throw new Error(`--gpu: Chromium offers no hardware WebGPU adapter (${JSON.stringify(probe.webgpu)})`);
      }
    } else {
      results.settings.webgpu_adapter = probe.webgpu;
    }
    if (!probe.cross_origin_isolated) throw new Error("bench pages are not cross-origin isolated");

    const ctxBase = { bannedIds, prompt, warmup, decodeTokens: args.decodeTokens, nCtx: 512, origin: srv.origin,
      gpu: args.gpu, timeoutMs: args.timeoutS * 1000, inferCmd: args.inferCmd };
    const total = models.length * (args.runs * variants.filter((v) => !v.not_speed).length
      + variants.filter((v) => v.not_speed).length);
    let n = 0;
    for (let round = 0; round < args.runs; round++) {
      for (const [mi, model] of models.entries()) {
        const order = roundOrder(variants, round + mi);
        for (const v of order) {
          // WebGPU on SwiftShader is recorded, not timed: one run (in the first round) is enough, and it is slow
          if (v.not_speed && round > 0) continue;
          n++;
          const t = Date.now();
          const r = await runVariant(v, v.not_speed
            ? { ...ctxBase, model, prompt: structuralPrompt, warmup: null, decodeTokens: 2,
                timeoutMs: Math.min(ctxBase.timeoutMs, 900_000) }
            : { ...ctxBase, model, decodeTokens: v.engine === "wllama" ? args.wllamaDecodeTokens : ctxBase.decodeTokens });
          const rec = { quant: model.quant, variant: v.id, round, ok: r.ok, at: new Date().toISOString(),
            loadavg: os.loadavg()[0] };
          if (r.ok) {
            Object.assign(rec, { load_ms: r.load_ms, ttft_ms: r.ttft_ms, prefill_tok_s: r.prefill_tok_s,
              decode_tok_s: r.decode_tok_s, prompt_tokens: r.prompt_tokens, generated_tokens: r.generated_tokens,
              decode_ms: r.decode_ms, memory: r.memory,
              // our engines' counter: bytes of weights read per generated token (compare the file size)
              weight_bytes_per_token: r.raw?.counters?.weight_bytes_per_token ?? null, raw: r.raw });
            if (v.engine === "wllama") results.versions.wllama_libllama ??= r.raw.libllama;
            if (v.engine === "native") results.versions.llama_cpp ??= r.raw.llama_cpp_release;
          } else {
            rec.error = r.error;
          }
          results.runs.push(rec);
          log(`[${n}/${total}] ${model.quant} ${v.id}: ` + (r.ok
            ? `prefill ${r.prefill_tok_s?.toFixed(2)} tok/s, decode ${r.decode_tok_s?.toFixed(2)} tok/s, `
              + `TTFT ${Math.round(r.ttft_ms)} ms, load ${Math.round(r.load_ms)} ms, peak ${r.memory?.peak_anon_shmem_mib} MiB (anon+shmem)`
            : `FAILED: ${r.error.split("\n")[0]}`) + ` (${((Date.now() - t) / 1000).toFixed(0)} s)`);
        }
      }
    }
  } finally {
    await srv.close();
  }
  results.finished_at = new Date().toISOString();
  results.machine.loadavg_end = os.loadavg();

  fs.mkdirSync(args.out, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace("T", "-").replace(":", "");
  const outFile = path.join(args.out, `${stamp}${args.quick ? "-quick" : ""}${args.gpu ? "-gpu" : ""}.json`);
  fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${path.relative(process.cwd(), outFile)}`);
  const haveFull = fs.readdirSync(args.out).some((f) => f.endsWith(".json") && !f.includes("quick")
    && f.includes("-gpu") === args.gpu && path.join(args.out, f) !== outFile);
  if (args.report && !(args.quick && haveFull)) {
    const rep = await writeReport({ resultsFile: outFile, mdFile: args.md, imgDir: args.imgDir });
    log(`wrote ${[rep.md, ...rep.pngs].map((p) => path.relative(process.cwd(), p)).join(", ")}`);
  } else if (args.report) {
    log("quick run: docs/benchmarks.md left as is (it shows a full run); regenerate with e2e/bench/report.mjs --results FILE");
  }
  process.stdout.write(JSON.stringify({ results: outFile }) + "\n");
}

main().catch((e) => { process.stderr.write(`bench: ${e.stack || e}\n`); process.exit(1); });
