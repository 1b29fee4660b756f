// The benchmarked engines. Every run is a fresh process (Chromium, node, or our CLI) so load time and peak memory
// belong to that run alone. Each returns a normalized record:
//   {ok, load_ms, ttft_ms, prefill_tok_s, decode_tok_s, prompt_tokens, generated_tokens, memory:{...}, raw}
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Chromium, GPU_EXTRA_FLAGS } from "./chromium.mjs";
import { TreeMemorySampler } from "./procmem.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "../../..");

/** The variants measured by default, in base order (rounds rotate it). */
export const VARIANTS = [
  { id: "wasm-1t", engine: "wasm", threads: 1, label: "Earn Idle WASM SIMD", where: "browser" },
  { id: "wllama-1t", engine: "wllama", threads: 1, label: "wllama 3.8.1 (llama.cpp WASM)", where: "browser" },
  { id: "native-1t", engine: "native", threads: 1, label: "llama.cpp native (node-llama-cpp)", where: "node" },
  { id: "wasm-2t", engine: "wasm", threads: 2, label: "Earn Idle WASM SIMD", where: "browser" },
  { id: "wllama-2t", engine: "wllama", threads: 2, label: "wllama 3.8.1 (llama.cpp WASM)", where: "browser" },
  { id: "native-2t", engine: "native", threads: 2, label: "llama.cpp native (node-llama-cpp)", where: "node" },
  { id: "webgpu", engine: "webgpu", threads: null, label: "Earn Idle WebGPU", where: "browser" },
];
/** Only with --gpu: llama.cpp's own WebGPU backend inside wllama (all layers offloaded). */
export const GPU_VARIANTS = [
  { id: "wllama-webgpu", engine: "wllama", threads: 1, gpuLayers: 999, label: "wllama 3.8.1 WebGPU (llama.cpp)",
    where: "browser" },
];

/**
 * The variants of one round. Drift on this shared host (memory bandwidth moves by tens of percent within minutes)
 * is what matters, so the engines at one thread count run back to back with ours and native adjacent: in even
 * rounds ours, native, wllama; in odd rounds wllama, native, ours (each engine is first and last alike). Thread
 * counts alternate their order too; the structural WebGPU run comes last.
 */
export function roundOrder(variants, round) {
  const speed = variants.filter((v) => !v.not_speed);
  const threads = [...new Set(speed.map((v) => v.threads))].sort((a, b) => a - b);
  if (round % 2) threads.reverse();
  const rank = { wasm: 0, native: 1, wllama: 2 };
  const order = [];
  for (const t of threads) {
    const group = speed.filter((v) => v.threads === t)
      .sort((a, b) => (rank[a.engine] ?? 3) - (rank[b.engine] ?? 3) || a.id.localeCompare(b.id));
    order.push(...(round % 2 ? group.reverse() : group));
  }
  return [...order, ...variants.filter((v) => v.not_speed)];
}

function rates(r) {
  const out = { ...r };
  out.prefill_tok_s = r.prompt_tokens && r.ttft_ms > 0 ? r.prompt_tokens / (r.ttft_ms / 1000) : null;
  out.decode_tok_s = r.generated_tokens > 1 && r.decode_ms > 0 ? (r.generated_tokens - 1) / (r.decode_ms / 1000) : null;
  return out;
}

function runProcess(cmd, args, { cwd, env, sampler, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-8000); });
    const s = sampler ? new TreeMemorySampler(child.pid, sampler).start() : null;
    // SIGTERM first so `earnidle infer` (exec'd java) runs its shutdown hook and kills its Chromium; then SIGKILL
    let kill9 = null;
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      kill9 = setTimeout(() => child.kill("SIGKILL"), 10_000);
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill9);
      resolve({ code, signal, stdout, stderr, memory: s ? s.stop() : null });
    });
  });
}

function lastJsonLine(text) {
  const lines = text.trim().split("\n").reverse();
  for (const l of lines) {
    const t = l.trim();
    if (t.startsWith("{")) { try { return JSON.parse(t); } catch { /* keep looking */ } }
  }
  return null;
}

/** native llama.cpp in its own node process */
export async function runNative(v, ctx) {
  const opts = { model: ctx.model.file, threads: v.threads, prompt: ctx.prompt.text, maxTokens: ctx.decodeTokens,
    bannedIds: ctx.bannedIds, warmupPrompt: ctx.warmup.text, warmupTokens: ctx.warmup.tokens, nCtx: ctx.nCtx };
  const p = await runProcess(process.execPath, [path.join(HERE, "native-run.mjs"), JSON.stringify(opts)],
    { cwd: path.dirname(HERE), sampler: { intervalMs: 250 }, timeoutMs: ctx.timeoutMs });
  const raw = lastJsonLine(p.stdout);
  if (p.code !== 0 || !raw) return { ok: false, error: `exit ${p.code ?? p.signal}: ${p.stderr.slice(-1500)}` };
  return { ok: true, ...rates(raw), memory: { ...p.memory, process_vmhwm_mib: raw.vmhwm_mib }, raw };
}

/** wllama in a fresh headless Chromium, cross-origin isolated page */
export async function runWllama(v, ctx) {
  const browser = await Chromium.launch({ gpu: ctx.gpu });
  const sampler = new TreeMemorySampler(browser.pid, { intervalMs: 250 }).start();
  let page;
  try {
    page = await browser.newPage(`${ctx.origin}/bench/wllama.html`);
    await page.evaluate(`new Promise((ok, no) => { const t = Date.now(); (function w() {
      if (window.benchReady) ok(true); else if (Date.now() - t > 30000) no(new Error("bench page not ready"));
      else setTimeout(w, 50); })(); })`);
    const logitBias = Object.fromEntries(ctx.bannedIds.map((id) => [String(id), -1000]));
    const opts = { modelUrl: `/models/${path.basename(ctx.model.file)}`, threads: v.threads, gpuLayers: v.gpuLayers ?? 0,
      prompt: ctx.prompt.text, maxTokens: ctx.decodeTokens, logitBias, warmupPrompt: ctx.warmup.text,
      warmupTokens: ctx.warmup.tokens, nCtx: ctx.nCtx };
    const raw = await withTimeout(page.evaluate(`window.benchWllama(${JSON.stringify(opts)})`), ctx.timeoutMs);
    const memory = sampler.stop();
    if (!raw.cross_origin_isolated) throw new Error("page is not cross-origin isolated");
    return { ok: true, ...rates(raw), memory, raw };
  } catch (e) {
    sampler.stop();
    return { ok: false, error: `${e.message}${page ? "\n" + page.console.slice(-10).join("\n") : ""}` };
  } finally {
    await browser.close();
  }
}

/**
 * Our engines (WASM SIMD, WebGPU) through `./earnidle infer --engine wasm|webgpu`, which runs them in headless
 * Chromium and prints one JSON object. Peak memory: the Chromium processes under that command.
 */
export async function runOurs(v, ctx) {
  const args = ["infer", "--engine", v.engine, "--model", ctx.model.file, "--prompt", ctx.prompt.text,
    "--max-tokens", String(ctx.decodeTokens), "--temperature", "0"];
  if (v.threads) args.push("--threads", String(v.threads));
  // ctx.inferCmd: the command that prints the JSON (default ./earnidle infer), as argv
  const [cmd, ...pre] = ctx.inferCmd || [path.join(REPO, "earnidle"), "infer"];
  args.shift();
  args.unshift(...pre);
  const p = await runProcess(cmd, args,
    // --gpu: the extra Chromium flags for a hardware adapter, for the CLI's own Chromium launch to add
    { cwd: REPO, env: ctx.gpu ? { EARNIDLE_CHROMIUM_EXTRA_FLAGS: GPU_EXTRA_FLAGS.join(" ") } : {},
      sampler: { intervalMs: 250, exeFilter: /chrom/ }, timeoutMs: ctx.timeoutMs });
  const raw = lastJsonLine(p.stdout);
  if (p.code !== 0 || !raw) {
    return { ok: false, error: `infer --engine ${v.engine} exit ${p.code ?? p.signal}: `
      + (p.stderr.trim().split("\n").slice(-6).join("\n") || "no output") };
  }
  return { ok: true, ...rates(normalizeOurs(raw, ctx)), memory: p.memory, raw };
}

/** Maps the CLI's JSON ({engine, prefill_ms, decode_ms, decode_tokens_per_s, ...}) onto the common record. */
export function normalizeOurs(raw, ctx) {
  const ids = raw.ids || raw.token_ids;
  const generated = raw.generated_tokens ?? raw.decode_tokens ?? (Array.isArray(ids) ? ids.length : null);
  const promptTokens = raw.prompt_tokens ?? (Array.isArray(raw.prompt_ids) ? raw.prompt_ids.length : ctx.prompt.tokens);
  let decodeMs = raw.decode_ms ?? null;
  // our prefill_ms covers the prompt pass that yields the first token; decode_ms the remaining tokens
  if (decodeMs == null && raw.decode_tokens_per_s > 0 && generated > 1) decodeMs = (generated - 1) / raw.decode_tokens_per_s * 1000;
  return {
    engine: raw.engine, load_ms: raw.load_ms ?? raw.model_load_ms ?? null,
    ttft_ms: raw.ttft_ms ?? raw.prefill_ms ?? null, decode_ms: decodeMs,
    prompt_tokens: promptTokens, generated_tokens: generated,
  };
}

function withTimeout(promise, ms) {
  let t;
  return Promise.race([promise, new Promise((_, no) => { t = setTimeout(() => no(new Error(`timed out after ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

export function runVariant(v, ctx) {
  if (v.engine === "native") return runNative(v, ctx);
  if (v.engine === "wllama") return runWllama(v, ctx);
  return runOurs(v, ctx);
}
