#!/usr/bin/env node
// Self-test of this folder: builds the tiny GGUF, runs llama-ref.mjs on it, and checks its output against
//   (a) an independent float64 JavaScript Llama forward pass over the same GGUF (logits at every greedy step),
//   (b) node-llama-cpp's own greedy generation (sequence.evaluate(ids, {temperature: 0})) in a fresh process-local
//       context, compared up to the first top-2 gap below 0.02,
// and runs tokenize-ref.mjs / export-llama3-tokenizer.mjs with their known answers.
// Usage: node selftest.mjs [--keep DIR]       Exit 0 when everything passes; prints a JSON summary.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dir = args[0] === "--keep" ? args[1] : fs.mkdtempSync(path.join(os.tmpdir(), "llama-ref-selftest-"));
fs.mkdirSync(dir, { recursive: true });
const problems = [];
const check = (ok, msg) => { if (!ok) problems.push(msg); };
const run = (script, argv, input) => {
    const t0 = process.hrtime.bigint();
    const out = execFileSync(process.execPath, [path.join(here, script), ...argv], { input, encoding: "utf8", maxBuffer: 1 << 28 });
    return { out, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
};

// ---- minimal GGUF v3 reader (F32 tensors only)
function readGguf(file) {
    const b = fs.readFileSync(file);
    let p = 0;
    const u32 = () => { const v = b.readUInt32LE(p); p += 4; return v; };
    const u64 = () => { const v = Number(b.readBigUInt64LE(p)); p += 8; return v; };
    const str = () => { const n = u64(); const s = b.toString("utf8", p, p + n); p += n; return s; };
    const val = (t) => {
        switch (t) {
            case 0: return b.readUInt8(p++);
            case 1: return b.readInt8(p++);
            case 4: return u32();
            case 5: { const v = b.readInt32LE(p); p += 4; return v; }
            case 6: { const v = b.readFloatLE(p); p += 4; return v; }
            case 7: return b.readUInt8(p++) !== 0;
            case 8: return str();
            case 9: { const et = u32(); const n = u64(); const a = []; for (let i = 0; i < n; i++) a.push(val(et)); return a; }
            case 10: return u64();
            default: throw new Error(`gguf type ${t}`);
        }
    };
    if (b.toString("ascii", 0, 4) !== "GGUF") throw new Error("not GGUF");
    p = 4; if (u32() !== 3) throw new Error("not v3");
    const nt = u64(), nkv = u64();
    const meta = {};
    for (let i = 0; i < nkv; i++) { const k = str(); meta[k] = val(u32()); }
    const infos = [];
    for (let i = 0; i < nt; i++) {
        const name = str(); const nd = u32(); const ne = []; for (let j = 0; j < nd; j++) ne.push(u64());
        const type = u32(); const off = u64(); infos.push({ name, ne, type, off });
    }
    const align = meta["general.alignment"] ?? 32;
    const base = Math.ceil(p / align) * align;
    const tensors = {};
    for (const t of infos) {
        if (t.type !== 0) throw new Error(`${t.name} is not F32`);
        const n = t.ne.reduce((a, c) => a * c, 1);
        const f = new Float32Array(n);
        for (let i = 0; i < n; i++) f[i] = b.readFloatLE(base + t.off + 4 * i);
        tensors[t.name] = f;
    }
    return { meta, tensors };
}

// ---- independent Llama forward pass (float64 math), returns logits after each position of `ids`
function llamaForward({ meta, tensors: W }, ids) {
    const E = meta["llama.embedding_length"], L = meta["llama.block_count"], H = meta["llama.attention.head_count"];
    const HKV = meta["llama.attention.head_count_kv"], FF = meta["llama.feed_forward_length"];
    const eps = meta["llama.attention.layer_norm_rms_epsilon"], base = meta["llama.rope.freq_base"];
    const V = meta["tokenizer.ggml.tokens"].length, HD = E / H;
    const matvec = (w, x, nin, nout) => { const o = new Float64Array(nout); for (let r = 0; r < nout; r++) { let s = 0; for (let i = 0; i < nin; i++) s += w[r * nin + i] * x[i]; o[r] = s; } return o; };
    const rms = (x, g) => { let s = 0; for (const v of x) s += v * v; const k = 1 / Math.sqrt(s / x.length + eps); return x.map((v, i) => v * k * g[i]); };
    const rope = (v, nh, pos) => { for (let h = 0; h < nh; h++) for (let j = 0; j < HD / 2; j++) { const th = pos * Math.pow(base, (-2 * j) / HD); const c = Math.cos(th), s = Math.sin(th); const a = v[h * HD + 2 * j], b2 = v[h * HD + 2 * j + 1]; v[h * HD + 2 * j] = a * c - b2 * s; v[h * HD + 2 * j + 1] = a * s + b2 * c; } };
    const K = Array.from({ length: L }, () => []), Vc = Array.from({ length: L }, () => []);
    const all = [];
    ids.forEach((tok, pos) => {
        let x = Float64Array.from(W["token_embd.weight"].subarray(tok * E, (tok + 1) * E));
        for (let l = 0; l < L; l++) {
            const w = (n) => W[`blk.${l}.${n}.weight`];
            const h = rms(x, w("attn_norm"));
            const q = matvec(w("attn_q"), h, E, E), k = matvec(w("attn_k"), h, E, HKV * HD), v = matvec(w("attn_v"), h, E, HKV * HD);
            rope(q, H, pos); rope(k, HKV, pos);
            K[l].push(k); Vc[l].push(v);
            const att = new Float64Array(E);
            for (let hh = 0; hh < H; hh++) {
                const kh = Math.floor(hh / (H / HKV));
                const sc = K[l].map((kk) => { let s = 0; for (let d = 0; d < HD; d++) s += q[hh * HD + d] * kk[kh * HD + d]; return s / Math.sqrt(HD); });
                const m = Math.max(...sc); const e = sc.map((s) => Math.exp(s - m)); const z = e.reduce((a, c) => a + c, 0);
                for (let t = 0; t < e.length; t++) for (let d = 0; d < HD; d++) att[hh * HD + d] += (e[t] / z) * Vc[l][t][kh * HD + d];
            }
            const o = matvec(w("attn_output"), att, E, E); x = x.map((v2, i) => v2 + o[i]);
            const h2 = rms(x, w("ffn_norm"));
            const g = matvec(w("ffn_gate"), h2, E, FF), u = matvec(w("ffn_up"), h2, E, FF);
            const a = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]);
            const dn = matvec(w("ffn_down"), a, FF, E); x = x.map((v2, i) => v2 + dn[i]);
        }
        all.push(matvec(W["output.weight"], rms(x, W["output_norm.weight"]), E, V));
    });
    return all;
}

const summary = {};
const tStart = Date.now();
const phase = {};
let tPhase = Date.now();
const mark = (k) => { phase[k] = Date.now() - tPhase; tPhase = Date.now(); };
// 1. tiny model + llama-ref
const gguf = path.join(dir, "tiny.gguf");
summary.make_test_gguf = JSON.parse(run("make-test-gguf.mjs", ["--out", gguf, "--seed", "42"]).out);
const prompt = [296, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];
const N = 16;
const r = run("llama-ref.mjs", ["--model", gguf, "--prompt-ids", prompt.join(","), "--greedy", String(N), "--threads", "1"]);
const ref = JSON.parse(r.out);
summary.llama_ref_ms = Math.round(r.ms);
check(ref.logits.length === 300, `logits length ${ref.logits.length}`);
check(ref.greedy_ids.length === N && ref.top2_gaps.length === N, "greedy/gaps length");

mark("make_gguf_and_llama_ref");
// (a) independent forward pass on prompt + greedy ids: compare logits at the first position and every greedy step
const model = readGguf(gguf);
const seq = [...prompt, ...ref.greedy_ids];
const js = llamaForward(model, seq);
let maxDiff = 0;
ref.logits.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - js[prompt.length - 1][i])); });
summary.max_abs_logit_diff_vs_js_f64 = maxDiff;
check(maxDiff < 1e-3, `llama.cpp vs JS f64 logits differ by ${maxDiff}`);
let stepsAgree = 0;
for (let s = 0; s < N; s++) {
    const row = js[prompt.length - 1 + s];
    let best = 0; for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    const sorted = Array.from(row).sort((a, b) => b - a);
    if (best !== ref.greedy_ids[s]) { check(ref.top2_gaps[s] < 0.02, `greedy step ${s}: ${ref.greedy_ids[s]} vs JS ${best} with gap ${ref.top2_gaps[s]}`); break; }
    check(Math.abs((sorted[0] - sorted[1]) - ref.top2_gaps[s]) < 1e-3, `gap step ${s}`);
    stepsAgree++;
}
summary.greedy_steps_agreeing_with_js = stepsAgree;

mark("js_forward");
// (b) node-llama-cpp's own greedy generation
const llama = await getLlama({ build: "never", gpu: false, skipDownload: true, maxThreads: 1, logLevel: LlamaLogLevel.error, progressLogs: false });
const m = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
const ctx = await m.createContext({ contextSize: 64, threads: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
const own = [];
for await (const t of ctx.getSequence().evaluate(prompt, { temperature: 0 })) { own.push(t); if (own.length === N) break; }
await ctx.dispose(); await m.dispose(); await llama.dispose();
let firstNearTie = ref.top2_gaps.findIndex((g) => g < 0.02); if (firstNearTie < 0) firstNearTie = N;
for (let s = 0; s < Math.min(firstNearTie, own.length); s++) check(own[s] === ref.greedy_ids[s], `evaluate(temperature 0) step ${s}: ${own[s]} vs ${ref.greedy_ids[s]}`);
summary.greedy_ids = ref.greedy_ids;
summary.evaluate_temperature0_ids = own;
summary.compared_up_to_step = firstNearTie;

mark("in_process_evaluate");
// 2. tokenizers
const tok = JSON.parse(run("tokenize-ref.mjs", [], JSON.stringify(["Hello world, this is a test."])).out);
const want = [9906, 1917, 11, 420, 374, 264, 1296, 13];
check(JSON.stringify(tok[0].lenml) === JSON.stringify(want) && JSON.stringify(tok[0].llama3js) === JSON.stringify(want), `tokenize-ref: ${JSON.stringify(tok)}`);
const ex = JSON.parse(run("export-llama3-tokenizer.mjs", ["--out", path.join(dir, "llama3-tokenizer")]).out);
summary.export_counts = { token_count: ex.token_count, merge_count: ex.merge_count, special_count: ex.special_count };

mark("tokenizers");
summary.phase_ms = phase;
summary.total_ms = Date.now() - tStart;
summary.problems = problems;
summary.dir = dir;
process.stdout.write(JSON.stringify(summary, null, 1) + "\n");
process.exit(problems.length ? 1 : 0);
