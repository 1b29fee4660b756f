// Build-time only: compiles every src/main/wat/*.wat into four WebAssembly binaries with wabt's JS build
// (npm "wabt", pinned in package-lock.json), run by exec-maven-plugin at generate-resources:
//   NAME.wasm                plain SIMD128, unshared imported memory
//   NAME-relaxed.wasm        relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s), unshared memory
//   NAME-mt.wasm             plain SIMD128, shared imported memory (threads)
//   NAME-relaxed-mt.wasm     relaxed SIMD, shared imported memory
// Source preprocessing (line based): ";;#if RELAXED" / ";;#else" / ";;#endif" select lines per variant, and the
// token "$$SHARED$$" becomes "shared" in the -mt variants. Hot loops are inlined by hand with line macros:
// ";;#macro NAME" ... ";;#endmacro" defines a block, and a line ";;@NAME K=V K2=V2" expands it with every
// "{K}" replaced by V (macros expand before the #if pass, so a macro body may hold #if blocks). Named constants:
// ";;#const NAME VALUE" defines one, and every token "$$NAME$$" becomes VALUE (before macros expand).
// Usage: node build.mjs SRC_DIR OUT_DIR
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from "node:fs";
import { join, basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "node_modules", "wabt"))) {
  console.error(`wabt is not installed: run "npm ci" in ${here} (./earnidle test does it for you)`);
  process.exit(2);
}
const { default: wabtInit } = await import("wabt");
const [srcDir, outDir] = process.argv.slice(2);
if (!srcDir || !outDir) {
  console.error("usage: node build.mjs SRC_DIR OUT_DIR");
  process.exit(2);
}

function expandUse(line, macros, depth) {
  const use = /^;;@(\w+)((?:\s+\w+=\S+)*)\s*$/.exec(line.trim());
  if (!use) return line;
  if (depth > 8) throw new Error(`macro ${use[1]}: nested too deeply`);
  if (!macros.has(use[1])) throw new Error(`unknown macro ${use[1]}`);
  const args = Object.fromEntries(use[2].trim().split(/\s+/).filter(Boolean).map((kv) => kv.split("=")));
  const text = macros.get(use[1]).replace(/\{(\w+)\}/g, (m, k) => {
    if (!(k in args)) throw new Error(`macro ${use[1]}: missing argument ${k}`);
    return args[k];
  });
  // a macro body may use other macros (defined before the use)
  return text.split("\n").map((l) => expandUse(l, macros, depth + 1)).join("\n");
}

export function expandMacros(text) {
  const macros = new Map();
  const body = [];
  let cur = null;
  for (const line of text.split("\n")) {
    const t = line.trim();
    const def = /^;;#macro\s+(\w+)\s*$/.exec(t);
    if (def) {
      if (cur) throw new Error(`nested #macro ${def[1]}`);
      cur = { name: def[1], lines: [] };
      body.push("");
      continue;
    }
    if (t === ";;#endmacro") {
      if (!cur) throw new Error("#endmacro without #macro");
      macros.set(cur.name, cur.lines.join("\n"));
      cur = null;
      body.push("");
      continue;
    }
    if (cur) {
      cur.lines.push(line);
      body.push("");
      continue;
    }
    body.push(expandUse(line, macros, 0));
    continue;
  }
  if (cur) throw new Error(`unterminated #macro ${cur.name}`);
  return body.join("\n");
}

export function expandConstants(text) {
  const consts = new Map();
  const lines = text.split("\n").map((line) => {
    const def = /^;;#const\s+(\w+)\s+(\S+)\s*$/.exec(line.trim());
    if (!def) return line;
    if (consts.has(def[1])) throw new Error(`#const ${def[1]} defined twice`);
    consts.set(def[1], def[2]);
    return "";
  });
  return lines.map((line) => line.replace(/\$\$(\w+)\$\$/g, (m, name) => {
    if (name === "SHARED") return m;
    if (!consts.has(name)) throw new Error(`unknown constant $$${name}$$`);
    return consts.get(name);
  })).join("\n");
}

export function preprocess(text, { relaxed, shared }) {
  text = expandMacros(expandConstants(text));
  const out = [];
  const stack = []; // each entry: {active, taken}
  const active = () => stack.every((s) => s.active);
  text.split("\n").forEach((line, i) => {
    const t = line.trim();
    const m = /^;;#if\s+(!?)(RELAXED|SHARED)\s*$/.exec(t);
    if (m) {
      const v = (m[2] === "RELAXED" ? relaxed : shared) !== (m[1] === "!");
      stack.push({ active: v });
      out.push("");
      return;
    }
    if (t === ";;#else") {
      if (!stack.length) throw new Error(`line ${i + 1}: #else without #if`);
      stack[stack.length - 1].active = !stack[stack.length - 1].active;
      out.push("");
      return;
    }
    if (t === ";;#endif") {
      if (!stack.pop()) throw new Error(`line ${i + 1}: #endif without #if`);
      out.push("");
      return;
    }
    out.push(active() ? line.replaceAll("$$SHARED$$", shared ? "shared" : "") : "");
  });
  if (stack.length) throw new Error("unterminated #if");
  return out.join("\n");
}

const wabt = await wabtInit();
mkdirSync(outDir, { recursive: true });
const variants = [
  { suffix: "", relaxed: false, shared: false },
  { suffix: "-relaxed", relaxed: true, shared: false },
  { suffix: "-mt", relaxed: false, shared: true },
  { suffix: "-relaxed-mt", relaxed: true, shared: true },
];
let count = 0;
for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".wat")).sort()) {
  const src = readFileSync(join(srcDir, file), "utf8");
  for (const v of variants) {
    const features = { simd: true, relaxed_simd: v.relaxed, threads: v.shared };
    const name = basename(file, ".wat") + v.suffix + ".wasm";
    let mod;
    try {
      mod = wabt.parseWat(file, preprocess(src, v), features);
      mod.resolveNames();
      mod.validate(features);
      const { buffer } = mod.toBinary({ write_debug_names: true });
      writeFileSync(join(outDir, name), buffer);
      count++;
    } catch (e) {
      console.error(`${file} (${name}): ${e.message}`);
      process.exit(1);
    } finally {
      mod?.destroy();
    }
  }
}
console.log(`simd kernels: wrote ${count} wasm files to ${outDir}`);
