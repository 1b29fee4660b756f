import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { runWllama, runNative } from "./lib/engines.mjs";
import { readGgufMetadata, bannedTokenIds } from "./lib/gguf.mjs";
const file = "/work/main/data/bench/llama-3.2-1b-q4_0.gguf";
const srv = await startServer({ dirs: { "/bench/": "web", "/wllama/": "node_modules/@wllama/wllama" }, files: { ["/models/" + path.basename(file)]: file } });
const ctx = { model: { file }, prompt: { text: "The old lighthouse keeper climbed the spiral stairs every evening before sunset. He carried a small lamp, a notebook and a thermos of tea, and he", tokens: 32 },
  decodeTokens: 6, bannedIds: bannedTokenIds(readGgufMetadata(file).meta), warmup: { text: "Once upon a time", tokens: 2 }, nCtx: 256, origin: srv.origin, timeoutMs: 600000 };
let t = performance.now();
console.log(JSON.stringify(await runNative({ threads: 1 }, ctx)), performance.now() - t);
t = performance.now();
console.log(JSON.stringify(await runWllama({ threads: 1 }, ctx)), performance.now() - t);
await srv.close();
