// Runs the two JavaScript GGUF readers on the files named on the command line and prints what they read, as JSON
// (one entry per file), for GgufJsParsersTest to compare with the Java GgufFile:
//   glue:  parseGgufHeader of the browser node's cpu-glue.js (data offset, alignment, tensor table), and
//   bench: readGgufMetadata of e2e/bench/lib/gguf.mjs (version, tensor count, metadata key/values).
// Usage: node gguf-parsers.mjs FILE.gguf ...
import { readFileSync } from "node:fs";
import { runInThisContext } from "node:vm";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
globalThis.self = globalThis; // cpu-glue.js is a classic worker script: it publishes self.EarnIdleCpu
const gluePath = here("../../main/resources/web/node/engine/cpu-glue.js");
runInThisContext(readFileSync(gluePath, "utf8"), { filename: gluePath });
const { readGgufMetadata } = await import(new URL("../../../../e2e/bench/lib/gguf.mjs", import.meta.url).href);

const out = process.argv.slice(2).map((file) => {
  const bytes = readFileSync(file);
  const glue = self.EarnIdleCpu.parseGgufHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { file, glue, bench: readGgufMetadata(file) };
});
process.stdout.write(JSON.stringify(out));
