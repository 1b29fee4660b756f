#!/usr/bin/env node
// Writes a tiny, valid GGUF v3 Llama model with seeded random F32 weights, ONLY for self-testing llama-ref.mjs.
// (The Java tests use their own GGUF synthesizer; this file is not a format reference for it.)
//
// Usage:  node make-test-gguf.mjs --out FILE.gguf [--seed N]      (default seed 42; same seed -> same bytes)
//
// Model: architecture "llama", 2 layers, embedding 64, 4 attention heads (head dim 16), 2 KV heads (GQA),
// feed-forward 128, context 256, RMS eps 1e-5, RoPE base 500000, all tensors F32, untied output matrix.
// Vocabulary (300 tokens, tokenizer.ggml.model "gpt2", tokenizer.ggml.pre "llama-bpe"):
//   ids 0..255   the 256 single bytes in GPT-2 byte-to-unicode form (id b = byte b; e.g. id 32 = "Ġ", id 10 = "Ċ")
//   ids 256..295 40 merged tokens, with the 40 merges that build them (rank order = id order)
//   ids 296..299 "<|begin_of_text|>" (BOS), "<|end_of_text|>" (EOS), "<|start_header_id|>", "<|eot_id|>"
//                (token type CONTROL = 3; all others NORMAL = 1)
// GGUF facts used: tensor dims ne = [in, out] (ne[0] is the contiguous dimension), 1-D norm tensors F32,
// data section aligned to 32 bytes (general.alignment default) and each tensor offset a multiple of 32.
import fs from "node:fs";

function fail(msg) {
    process.stderr.write(`make-test-gguf: ${msg}\n`);
    process.exit(2);
}

const args = process.argv.slice(2);
let out = null, seed = 42;
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") out = args[++i];
    else if (args[i] === "--seed") seed = Number(args[++i]);
    else fail(`unknown argument ${args[i]}`);
}
if (!out) fail("usage: node make-test-gguf.mjs --out FILE.gguf [--seed N]");
if (!Number.isInteger(seed)) fail("--seed must be an integer");

// ---- hyper-parameters
const N_LAYER = 2, N_EMBD = 64, N_HEAD = 4, N_HEAD_KV = 2, N_FF = 128, N_CTX = 256;
const HEAD_DIM = N_EMBD / N_HEAD, N_EMBD_KV = HEAD_DIM * N_HEAD_KV;

// ---- vocabulary
function bytesToUnicode() {
    const bs = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; b++) {
        if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
    }
    const map = new Array(256);
    bs.forEach((b, i) => { map[b] = String.fromCodePoint(cs[i]); });
    return map;
}
const byteTok = bytesToUnicode();
const tokens = byteTok.slice();
const u = (s) => Array.from(Buffer.from(s, "utf8")).map((b) => byteTok[b]).join("");
const mergePairs = [
    [" ", "t"], ["h", "e"], ["i", "n"], [" ", "a"], ["e", "r"], ["o", "n"], [" t", "he"], ["r", "e"], ["a", "t"],
    [" ", "s"], ["e", "n"], ["o", "r"], [" ", "w"], ["e", "s"], ["i", "s"], ["a", "n"], [" ", "o"], ["i", "t"],
    ["l", "l"], [" ", "c"], ["e", "d"], ["a", "r"], [" ", "b"], [" ", "f"], ["o", "u"], ["in", "g"], [" ", "p"],
    ["l", "e"], [" ", "m"], ["a", "l"], [" ", "h"], ["t", "h"], [" ", "i"], ["s", "t"], [" ", "d"], ["r", "o"],
    ["i", "c"], [" ", "l"], ["e", "l"], [" ", "n"],
];
const merges = [];
for (const [a, b] of mergePairs) {
    const ua = u(a), ub = u(b);
    if (!tokens.includes(ua) || !tokens.includes(ub)) fail(`merge part missing: ${a} ${b}`);
    if (tokens.includes(ua + ub)) fail(`duplicate merge result ${a + b}`);
    merges.push(`${ua} ${ub}`);
    tokens.push(ua + ub);
}
const specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|eot_id|>"];
const BOS = tokens.length, EOS = tokens.length + 1;
tokens.push(...specials);
const N_VOCAB = tokens.length;
if (N_VOCAB !== 300) fail(`internal: vocab ${N_VOCAB}`);
const tokenTypes = tokens.map((_, i) => (i >= BOS ? 3 : 1));

// ---- seeded RNG (mulberry32 + Box-Muller)
let state = seed >>> 0;
function rand() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gauss() {
    const a = Math.max(rand(), 1e-12), b = rand();
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
}
function randTensor(n, std, mean = 0) {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = mean + std * gauss();
    return a;
}

// ---- tensors: [name, ne (innermost first), data]
const tensors = [];
const mat = (name, nin, nout, std) => tensors.push([name, [nin, nout], randTensor(nin * nout, std)]);
const vec = (name, n) => tensors.push([name, [n], randTensor(n, 0.1, 1.0)]);
mat("token_embd.weight", N_EMBD, N_VOCAB, 1.0);
for (let l = 0; l < N_LAYER; l++) {
    vec(`blk.${l}.attn_norm.weight`, N_EMBD);
    mat(`blk.${l}.attn_q.weight`, N_EMBD, N_EMBD, 1 / Math.sqrt(N_EMBD));
    mat(`blk.${l}.attn_k.weight`, N_EMBD, N_EMBD_KV, 1 / Math.sqrt(N_EMBD));
    mat(`blk.${l}.attn_v.weight`, N_EMBD, N_EMBD_KV, 1 / Math.sqrt(N_EMBD));
    mat(`blk.${l}.attn_output.weight`, N_EMBD, N_EMBD, 1 / Math.sqrt(N_EMBD));
    vec(`blk.${l}.ffn_norm.weight`, N_EMBD);
    mat(`blk.${l}.ffn_gate.weight`, N_EMBD, N_FF, 1 / Math.sqrt(N_EMBD));
    mat(`blk.${l}.ffn_up.weight`, N_EMBD, N_FF, 1 / Math.sqrt(N_EMBD));
    mat(`blk.${l}.ffn_down.weight`, N_FF, N_EMBD, 1 / Math.sqrt(N_FF));
}
vec("output_norm.weight", N_EMBD);
mat("output.weight", N_EMBD, N_VOCAB, 2 / Math.sqrt(N_EMBD));

// ---- GGUF writer
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10 };
const parts = [];
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };

const kv = [
    ["general.architecture", T.STRING, "llama"],
    ["general.name", T.STRING, `earn-idle-tiny-test-seed${seed}`],
    ["general.alignment", T.UINT32, 32],
    ["general.file_type", T.UINT32, 0], // ALL_F32
    ["llama.context_length", T.UINT32, N_CTX],
    ["llama.embedding_length", T.UINT32, N_EMBD],
    ["llama.block_count", T.UINT32, N_LAYER],
    ["llama.feed_forward_length", T.UINT32, N_FF],
    ["llama.attention.head_count", T.UINT32, N_HEAD],
    ["llama.attention.head_count_kv", T.UINT32, N_HEAD_KV],
    ["llama.rope.dimension_count", T.UINT32, HEAD_DIM],
    ["llama.rope.freq_base", T.FLOAT32, 500000],
    ["llama.attention.layer_norm_rms_epsilon", T.FLOAT32, 1e-5],
    ["llama.vocab_size", T.UINT32, N_VOCAB],
    ["tokenizer.ggml.model", T.STRING, "gpt2"],
    ["tokenizer.ggml.pre", T.STRING, "llama-bpe"],
    ["tokenizer.ggml.tokens", T.ARRAY, [T.STRING, tokens]],
    ["tokenizer.ggml.token_type", T.ARRAY, [T.INT32, tokenTypes]],
    ["tokenizer.ggml.merges", T.ARRAY, [T.STRING, merges]],
    ["tokenizer.ggml.bos_token_id", T.UINT32, BOS],
    ["tokenizer.ggml.eos_token_id", T.UINT32, EOS],
    ["tokenizer.ggml.add_bos_token", T.BOOL, true],
];
function writeValue(type, v) {
    switch (type) {
        case T.UINT32: return u32(v);
        case T.INT32: return i32(v);
        case T.FLOAT32: return f32(v);
        case T.BOOL: return parts.push(Buffer.from([v ? 1 : 0]));
        case T.STRING: return str(v);
        case T.ARRAY: { const [et, arr] = v; u32(et); u64(arr.length); for (const x of arr) writeValue(et, x); return; }
        default: throw new Error(`type ${type}`);
    }
}

parts.push(Buffer.from("GGUF", "ascii"));
u32(3);
u64(tensors.length);
u64(kv.length);
for (const [k, type, v] of kv) { str(k); u32(type); writeValue(type, v); }
const ALIGN = 32;
let offset = 0;
const offsets = [];
for (const [name, ne, data] of tensors) {
    str(name);
    u32(ne.length);
    for (const d of ne) u64(d);
    u32(0); // GGML_TYPE_F32
    u64(offset);
    offsets.push(offset);
    offset += Math.ceil(data.byteLength / ALIGN) * ALIGN;
}
let headerLen = parts.reduce((s, b) => s + b.length, 0);
parts.push(Buffer.alloc((ALIGN - (headerLen % ALIGN)) % ALIGN));
for (const [, , data] of tensors) {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    parts.push(b, Buffer.alloc((ALIGN - (b.length % ALIGN)) % ALIGN));
}
const file = Buffer.concat(parts);
fs.writeFileSync(out, file);
process.stdout.write(JSON.stringify({ out, bytes: file.length, tensors: tensors.length, n_vocab: N_VOCAB, bos: BOS, eos: EOS, seed }) + "\n");
