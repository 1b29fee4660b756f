// One native llama.cpp (node-llama-cpp, CPU prebuilt) benchmark run in a fresh process, so its peak memory is its
// own. Called by bench.mjs:  node native-run.mjs '<json opts>'  -> one JSON line on stdout.
// opts: {model, threads, prompt, maxTokens, bannedIds, warmupPrompt, warmupTokens, nCtx}
import { getLlama, LlamaLogLevel, TokenBias } from "node-llama-cpp";
import fs from "node:fs";

const opts = JSON.parse(process.argv[2]);
const now = () => performance.now();

const ti = now();
const llama = await getLlama({
  build: "never", gpu: false, skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error,
  logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
  maxThreads: opts.threads,
});
const out = { engine: "native", init_ms: now() - ti, threads: opts.threads };
const t0 = now();
const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0, useMmap: true });
const context = await model.createContext({
  contextSize: opts.nCtx, batchSize: 512, sequences: 1, flashAttention: false,
  threads: { ideal: opts.threads, min: opts.threads },
});
out.load_ms = now() - t0;
const sequence = context.getSequence();
const bias = new TokenBias(model.tokenizer);
for (const id of opts.bannedIds) bias.set(id, "never");
const bos = model.tokens.bos;

async function generate(text, maxTokens, stamps) {
  const ids = [bos, ...model.tokenize(text, false)];
  let n = 0;
  const start = now();
  for await (const tok of sequence.evaluate(ids, { temperature: 0, tokenBias: bias })) {
    stamps?.push(now());
    void tok;
    if (++n >= maxTokens) break;
  }
  await sequence.clearHistory();
  return { promptTokens: ids.length, generated: n, start };
}

if (opts.warmupTokens > 0) {
  const tw = now();
  await generate(opts.warmupPrompt, opts.warmupTokens);
  out.warmup_ms = now() - tw;
}
const stamps = [];
const r = await generate(opts.prompt, opts.maxTokens, stamps);
out.prompt_tokens = r.promptTokens;
out.generated_tokens = r.generated;
out.ttft_ms = stamps.length ? stamps[0] - r.start : null;
out.decode_ms = stamps.length > 1 ? stamps[stamps.length - 1] - stamps[0] : null;
out.total_ms = stamps.length ? stamps[stamps.length - 1] - r.start : null;
out.max_rss_mib = Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
const status = fs.readFileSync("/proc/self/status", "utf8");
out.vmhwm_mib = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 102.4) / 10;
out.llama_cpp_release = llama.llamaCppRelease?.release ?? null;
await context.dispose();
await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(out) + "\n");
