// One native llama.cpp (node-llama-cpp prebuilt) benchmark run in a fresh process, so its peak memory is its own.
// Called by bench.mjs (CPU) and gpu-node.mjs (gpu "vulkan": every layer offloaded):
//   node native-run.mjs '<json opts>'  -> one JSON line on stdout.
// opts: {model, threads, prompt | promptIds, maxTokens, bannedIds, warmupPrompt, warmupTokens, nCtx, gpu?}
// promptIds are evaluated as given (BOS included), so two engines can be timed on exactly the same tokens.
import { getLlama, LlamaLogLevel, TokenBias } from "node-llama-cpp";
import fs from "node:fs";

const opts = JSON.parse(process.argv[2]);
const now = () => performance.now();

const ti = now();
const llama = await getLlama({
  build: "never", gpu: opts.gpu ?? false, skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error,
  logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
  maxThreads: opts.threads,
}).catch((e) => {
  if (!opts.gpu) throw e;
  process.stdout.write(JSON.stringify({ engine: "native", gpu: opts.gpu, error: `no ${opts.gpu} llama.cpp here: ${e.message}` }) + "\n");
  process.exit(2);
});
const out = { engine: "native", init_ms: now() - ti, threads: opts.threads, gpu: llama.gpu,
  llama_cpp_release: llama.llamaCppRelease?.release ?? null };
// a GPU run that ends up on the CPU is not a GPU figure: refuse it rather than time it
function refuse(error) {
  process.stdout.write(JSON.stringify({ ...out, error }) + "\n");
  process.exit(2);
}
if (opts.gpu && llama.gpu !== opts.gpu) refuse(`node-llama-cpp offers no ${opts.gpu} backend here (it chose ${llama.gpu || "the CPU"})`);
if (llama.gpu) {
  out.gpu_devices = await llama.getGpuDeviceNames();
  if (!out.gpu_devices.length) refuse(`llama.cpp's ${llama.gpu} backend found no GPU device (CPU-type devices such as SwiftShader are skipped)`);
}
const t0 = now();
const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: llama.gpu ? "max" : 0, useMmap: true });
if (llama.gpu) {
  out.gpu_layers = model.gpuLayers;
  out.block_count = model.fileInfo?.metadata?.llama?.block_count ?? null;
  if (!(model.gpuLayers > 0) || (out.block_count != null && model.gpuLayers < out.block_count)) {
    refuse(`only ${model.gpuLayers} of ${out.block_count} layers were offloaded to the GPU`);
  }
}
const context = await model.createContext({
  contextSize: opts.nCtx, batchSize: 512, sequences: 1, flashAttention: false,
  threads: { ideal: opts.threads, min: opts.threads },
});
out.load_ms = now() - t0;
const sequence = context.getSequence();
const bias = new TokenBias(model.tokenizer);
for (const id of opts.bannedIds) bias.set(id, "never");
const bos = model.tokens.bos;

async function generate(text, maxTokens, stamps, promptIds) {
  const ids = promptIds ?? [bos, ...model.tokenize(text, false)];
  const generated = [];
  const start = now();
  for await (const tok of sequence.evaluate(ids, { temperature: 0, tokenBias: bias })) {
    stamps?.push(now());
    generated.push(tok);
    if (generated.length >= maxTokens) break;
  }
  await sequence.clearHistory();
  return { promptTokens: ids.length, generated: generated.length, ids: generated, start };
}

if (opts.warmupTokens > 0) {
  const tw = now();
  await generate(opts.warmupPrompt, opts.warmupTokens);
  out.warmup_ms = now() - tw;
}
const stamps = [];
const r = await generate(opts.prompt, opts.maxTokens, stamps, opts.promptIds);
out.prompt_tokens = r.promptTokens;
out.generated_tokens = r.generated;
out.ids = r.ids;
out.ttft_ms = stamps.length ? stamps[0] - r.start : null;
out.decode_ms = stamps.length > 1 ? stamps[stamps.length - 1] - stamps[0] : null;
out.total_ms = stamps.length ? stamps[stamps.length - 1] - r.start : null;
out.max_rss_mib = Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
const status = fs.readFileSync("/proc/self/status", "utf8");
out.vmhwm_mib = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 102.4) / 10;
await context.dispose();
await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(out) + "\n");
