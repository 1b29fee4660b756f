#!/usr/bin/env node
// llama.cpp reference oracle (node-llama-cpp 3.22.1, CPU prebuilt binary, no build, no download).
//
// Usage:
//   node llama-ref.mjs --model FILE.gguf --prompt-ids 1,2,3 [--greedy N] [--threads K]
//
// Evaluates exactly the given token ids (no BOS is added) in a fresh context with an F32 K/V cache and flash
// attention off, then prints ONE JSON object (one line) to stdout:
//   {"logits":    [n_vocab numbers: raw logits for the position after the last prompt id, indexed by token id],
//    "greedy_ids":[N token ids generated greedily after the prompt],
//    "top2_gaps": [N numbers: for greedy step i, top1 - top2 of the raw logits from which greedy_ids[i] was chosen]}
// (N defaults to 0, giving empty arrays.) Step 0 uses exactly the "logits" array above; step i > 0 uses the logits
// after feeding greedy_ids[i-1]. Every step is a controlledEvaluate call that requests the full raw-logit vector; the
// greedy id is the argmax of that vector (lowest id on an exact tie, as llama.cpp's greedy sampler), and the gap is the
// difference between the largest and second-largest value of the same vector (0 when two ids tie). A caller comparing
// greedy sequences should stop at the first step whose gap is below its tolerance (e.g. 0.02).
// As a sanity check the script also asks llama.cpp for its own temperature-0 token at every step and fails (exit 3)
// if it differs from the argmax while the gap is > 0.
// Logit values are float32 numbers from llama.cpp written in JavaScript's shortest round-trip double form, so
// Double.parseDouble(...) followed by a cast to float recovers the exact float32.
//
// --threads K sets llama.cpp's CPU threads (default 1). Keep it at 1 on a small or busy machine: ggml's worker threads
// busy-wait, and with more threads than free cores a step can take ~1 s instead of a few ms.
// LLAMA_REF_DEBUG=1 in the environment prints per-step timing lines to stderr.
//
// Exit status: 0 ok; 2 bad arguments; 3 model/evaluation error. Messages go to stderr; llama.cpp's own log lines
// (warnings and errors only) also go to stderr, never to stdout.
import fs from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

function fail(code, msg) {
    process.stderr.write(`llama-ref: ${msg}\n`);
    process.exit(code);
}

const USAGE = "usage: node llama-ref.mjs --model FILE.gguf --prompt-ids 1,2,3 [--greedy N] [--threads K]";
const args = process.argv.slice(2);
let modelPath = null, promptIds = null, greedy = 0, threads = 1;
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
        if (i + 1 >= args.length) fail(2, `${a} needs a value\n${USAGE}`);
        return args[++i];
    };
    if (a === "--model") modelPath = val();
    else if (a === "--prompt-ids") {
        const raw = val();
        promptIds = raw.split(",").map((s) => s.trim());
        if (promptIds.length === 0 || promptIds.some((s) => !/^\d+$/.test(s)))
            fail(2, `--prompt-ids must be a comma-separated list of non-negative integers, got "${raw}"`);
        promptIds = promptIds.map(Number);
    } else if (a === "--greedy") {
        greedy = Number(val());
        if (!Number.isInteger(greedy) || greedy < 0) fail(2, "--greedy must be a non-negative integer");
    } else if (a === "--threads") {
        threads = Number(val());
        if (!Number.isInteger(threads) || threads < 1) fail(2, "--threads must be a positive integer");
    } else if (a === "--help" || a === "-h") {
        process.stderr.write(USAGE + "\n");
        process.exit(0);
    } else fail(2, `unknown argument "${a}"\n${USAGE}`);
}
if (!modelPath || !promptIds) fail(2, USAGE);
if (!fs.existsSync(modelPath)) fail(2, `model file not found: ${modelPath}`);

function argmaxTop2(arr) {
    let best = -1, bestV = -Infinity, secondV = -Infinity;
    for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v > bestV) { secondV = bestV; bestV = v; best = i; }
        else if (v > secondV) secondV = v; // includes v === bestV (a tie -> gap 0; best keeps the lowest id)
    }
    return { id: best, gap: bestV - secondV };
}

let llama, model, context;
try {
    llama = await getLlama({
        build: "never",
        gpu: false,
        skipDownload: true,
        progressLogs: false,
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
        maxThreads: threads,
    });
    model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
} catch (e) {
    fail(3, `cannot load model ${modelPath}: ${e?.message ?? e}`);
}

const nVocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length;
for (const id of promptIds) {
    if (nVocab !== undefined && id >= nVocab) fail(2, `prompt id ${id} is outside the vocabulary (n_vocab ${nVocab})`);
}

try {
    const needed = promptIds.length + greedy;
    context = await model.createContext({
        contextSize: Math.max(needed, 16),
        batchSize: Math.max(promptIds.length, 1),
        sequences: 1,
        flashAttention: false,
        experimentalKvCacheKeyType: "F32",
        experimentalKvCacheValueType: "F32",
        threads: { ideal: threads, min: threads },
    });
    if (context.contextSize < needed)
        fail(3, `context size ${context.contextSize} < prompt + greedy tokens ${needed}`);
    const sequence = context.getSequence({ contextShift: { size: 0 } });

    const stepItem = (id) => [id, { generateNext: { logits: true, token: true, options: { temperature: 0 } } }];
    const logitsAt = async (input) => {
        const res = await sequence.controlledEvaluate(input);
        const next = res[input.length - 1]?.next;
        if (!next?.logits) throw new Error("llama.cpp returned no logits");
        const n = next.logits.size;
        if (nVocab !== undefined && n !== nVocab) throw new Error(`got ${n} logits, expected n_vocab ${nVocab}`);
        const arr = new Float64Array(n).fill(NaN);
        for (const [tok, v] of next.logits) {
            if (!(tok >= 0 && tok < n)) throw new Error(`logit for unexpected token id ${tok}`);
            arr[tok] = v;
        }
        const bad = arr.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new Error(`logit for token ${bad} is missing or not finite (${arr[bad]})`);
        return { arr, sampled: next.token };
    };

    const debug = !!process.env.LLAMA_REF_DEBUG, t0 = Date.now();
    const first = await logitsAt([...promptIds.slice(0, -1), stepItem(promptIds[promptIds.length - 1])]);
    const greedyIds = [], gaps = [];
    let cur = first;
    for (let step = 0; step < greedy; step++) {
        const { id, gap } = argmaxTop2(cur.arr);
        if (gap > 0 && cur.sampled != null && cur.sampled !== id)
            throw new Error(`step ${step}: llama.cpp temperature-0 token ${cur.sampled} != argmax ${id} (gap ${gap})`);
        greedyIds.push(id);
        gaps.push(gap);
        if (step + 1 < greedy) cur = await logitsAt([stepItem(id)]);
        if (debug) process.stderr.write(`llama-ref: step ${step} id ${id} gap ${gap} t=${Date.now() - t0} ms\n`);
    }
    process.stdout.write(JSON.stringify({ logits: Array.from(first.arr), greedy_ids: greedyIds, top2_gaps: gaps }) + "\n");
} catch (e) {
    fail(3, `evaluation failed: ${e?.message ?? e}`);
} finally {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
}
