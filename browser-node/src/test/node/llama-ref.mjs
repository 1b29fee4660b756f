#!/usr/bin/env node
// llama.cpp reference oracle (node-llama-cpp 3.22.1, CPU prebuilt binary, no build, no download).
//
// Usage:
//   node llama-ref.mjs --model FILE.gguf --prompt-ids 1,2,3 [--greedy N] [--threads K] [--cpu-variant V --variant-dir D]
//   node llama-ref.mjs --jobs JOBS.json [--threads K] [--cpu-variant V --variant-dir D]
//   node llama-ref.mjs --list-cpu-variants --variant-dir D
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
// Batch mode (--jobs): JOBS.json is a JSON array of {"model": path, "prompt_ids": [ids], "greedy": N}; llama.cpp is
// initialised once (about 1 s) and the jobs run in order, each with its own model and context. stdout then carries one
// line per job, in order, each the object above plus "model" (the path as given). Any failing job stops the run with
// exit 2 or 3 and a message naming the model.
//
// CPU variants. The prebuilt binary ships one ggml CPU backend per x86 micro-architecture level
// (libggml-cpu-{x64,sse42,sandybridge,ivybridge,piledriver,haswell,skylakex,icelake,zen4,sapphirerapids,...}.so), and
// ggml loads the best one the CPU supports; they differ in their dot-product kernels (docs/engine.md, "llama.cpp's CPU
// variants"). --cpu-variant V runs llama.cpp with only libggml-cpu-V.so: the package @node-llama-cpp/linux-x64 is copied
// into D/V with that one variant (and the common libraries), and a module-resolution hook points node-llama-cpp at the
// copy. Every output line then carries "cpu_variant": the variant ggml actually loaded (also without --cpu-variant).
// A variant whose instructions the CPU lacks does not load: exit 4. --list-cpu-variants probes every variant of the
// package in a child process each and prints one line {"default": V, "loadable": [...], "unavailable": [...]}.
//
// --threads K sets llama.cpp's CPU threads (default 1). Keep it at 1 on a small or busy machine: ggml's worker threads
// busy-wait, and with more threads than free cores a step can take ~1 s instead of a few ms.
// LLAMA_REF_DEBUG=1 in the environment prints per-step timing lines to stderr.
//
// Exit status: 0 ok; 2 bad arguments; 3 model/evaluation error; 4 the --cpu-variant does not load on this CPU. Messages go to stderr; llama.cpp's own log lines
// (warnings and errors only) also go to stderr, never to stdout.
import fs from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { register } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

function fail(code, msg) {
    process.stderr.write(`llama-ref: ${msg}\n`);
    process.exit(code);
}

const USAGE = "usage: node llama-ref.mjs --model FILE.gguf --prompt-ids 1,2,3 [--greedy N] [--threads K] [--cpu-variant V --variant-dir D]\n"
    + "       node llama-ref.mjs --jobs JOBS.json [--threads K] [--cpu-variant V --variant-dir D]\n"
    + "       node llama-ref.mjs --list-cpu-variants --variant-dir D";
const args = process.argv.slice(2);
let modelPath = null, promptIds = null, greedy = 0, threads = 1, jobsPath = null;
let cpuVariant = null, variantDir = null, listVariants = false, probe = false;
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
        if (i + 1 >= args.length) fail(2, `${a} needs a value\n${USAGE}`);
        return args[++i];
    };
    if (a === "--model") modelPath = val();
    else if (a === "--jobs") jobsPath = val();
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
    } else if (a === "--cpu-variant") {
        cpuVariant = val();
        if (!/^[a-z0-9_]+$/.test(cpuVariant)) fail(2, `--cpu-variant must be a variant name such as haswell, got "${cpuVariant}"`);
    } else if (a === "--variant-dir") variantDir = path.resolve(val());
    else if (a === "--list-cpu-variants") listVariants = true;
    else if (a === "--probe") probe = true;
    else if (a === "--help" || a === "-h") {
        process.stderr.write(USAGE + "\n");
        process.exit(0);
    } else fail(2, `unknown argument "${a}"\n${USAGE}`);
}
// The bins folder of the CPU prebuilt package, and the variants it ships.
const PKG_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.resolve("@node-llama-cpp/linux-x64"))));
const BINS = path.join(PKG_DIR, "bins", "linux-x64");
const VARIANT_FILE = /^libggml-cpu-([a-z0-9_]+)\.so$/;
const shippedVariants = () => fs.readdirSync(BINS).map((f) => VARIANT_FILE.exec(f)?.[1]).filter(Boolean).sort();

if (listVariants) {
    if (!variantDir) fail(2, `--list-cpu-variants needs --variant-dir\n${USAGE}`);
    const self = fileURLToPath(import.meta.url);
    const probeOne = (variant) => new Promise((resolve) => {
        const args = [self, "--probe", ...(variant ? ["--cpu-variant", variant, "--variant-dir", variantDir] : [])];
        execFile(process.execPath, args, { encoding: "utf8", timeout: 120000 }, (err, stdout, stderr) => {
            if (!err) resolve(JSON.parse(stdout.trim().split("\n").pop()).cpu_variant);
            else if (err.code === 4) resolve(null);
            else fail(3, `probing CPU variant ${variant ?? "(default)"} failed (${err.code ?? err.signal}): ${stderr}`);
        });
    });
    const variants = shippedVariants(), found = new Array(variants.length);
    let next = 0; // four probes at a time: each mostly waits on loading libraries
    await Promise.all(Array.from({ length: 4 }, async () => {
        while (next < variants.length) {
            const k = next++;
            found[k] = await probeOne(variants[k]);
        }
    }));
    const loadable = variants.filter((v, k) => found[k] === v), unavailable = variants.filter((v, k) => found[k] !== v);
    process.stdout.write(JSON.stringify({ default: await probeOne(null), loadable, unavailable }) + "\n");
    process.exit(0);
}

if (cpuVariant) {
    if (!variantDir) fail(2, `--cpu-variant needs --variant-dir\n${USAGE}`);
    if (!shippedVariants().includes(cpuVariant))
        fail(2, `--cpu-variant ${cpuVariant}: no libggml-cpu-${cpuVariant}.so in ${BINS} (shipped: ${shippedVariants().join(", ")})`);
    // a copy of the package with one CPU variant, made once per variant directory
    const copy = path.join(variantDir, cpuVariant);
    const copyBins = path.join(copy, "bins", "linux-x64");
    const marker = path.join(copy, ".complete");
    if (!fs.existsSync(marker)) {
        fs.rmSync(copy, { recursive: true, force: true });
        fs.mkdirSync(copyBins, { recursive: true });
        fs.cpSync(path.join(PKG_DIR, "dist"), path.join(copy, "dist"), { recursive: true });
        fs.copyFileSync(path.join(PKG_DIR, "package.json"), path.join(copy, "package.json"));
        for (const f of fs.readdirSync(BINS)) {
            const v = VARIANT_FILE.exec(f)?.[1];
            if (v !== undefined && v !== cpuVariant) continue;
            try {
                fs.linkSync(path.join(BINS, f), path.join(copyBins, f)); // a hard link where the file system allows
            } catch {
                fs.copyFileSync(path.join(BINS, f), path.join(copyBins, f));
            }
        }
        fs.writeFileSync(marker, "");
    }
    const target = pathToFileURL(path.join(copy, "dist", "index.js")).href;
    register("data:text/javascript," + encodeURIComponent(
        "export async function resolve(specifier, context, next) {"
        + ` if (specifier === "@node-llama-cpp/linux-x64") return { url: ${JSON.stringify(target)}, shortCircuit: true };`
        + " return next(specifier, context); }"));
}
const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");

const validIds = (ids) => Array.isArray(ids) && ids.length > 0 && ids.every((n) => Number.isInteger(n) && n >= 0);
let jobs;
if (probe) {
    // handled after llama.cpp is loaded
} else if (jobsPath) {
    if (modelPath || promptIds || greedy) fail(2, `--jobs cannot be combined with --model/--prompt-ids/--greedy\n${USAGE}`);
    try {
        jobs = JSON.parse(fs.readFileSync(jobsPath, "utf8"));
    } catch (e) {
        fail(2, `cannot read jobs file ${jobsPath}: ${e?.message ?? e}`);
    }
    if (!Array.isArray(jobs) || jobs.length === 0) fail(2, `jobs file ${jobsPath} must hold a non-empty JSON array`);
    jobs.forEach((j, k) => {
        if (typeof j?.model !== "string") fail(2, `job ${k}: "model" must be a path string`);
        if (!validIds(j.prompt_ids)) fail(2, `job ${k} (${j.model}): "prompt_ids" must be a non-empty array of non-negative integers`);
        const g = j.greedy ?? 0;
        if (!Number.isInteger(g) || g < 0) fail(2, `job ${k} (${j.model}): "greedy" must be a non-negative integer`);
    });
    jobs.forEach((j, k) => {
        if (j.sequential !== undefined && typeof j.sequential !== "boolean") fail(2, `job ${k} (${j.model}): "sequential" must be a boolean`);
    });
    jobs = jobs.map((j) => ({ model: j.model, promptIds: j.prompt_ids, greedy: j.greedy ?? 0, sequential: !!j.sequential, tagged: true }));
} else {
    if (!modelPath || !promptIds) fail(2, USAGE);
    jobs = [{ model: modelPath, promptIds, greedy, sequential: false, tagged: false }];
}
for (const j of jobs ?? []) if (!fs.existsSync(j.model)) fail(2, `model file not found: ${j.model}`);

function argmaxTop2(arr) {
    let best = -1, bestV = -Infinity, secondV = -Infinity;
    for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v > bestV) { secondV = bestV; bestV = v; best = i; }
        else if (v > secondV) secondV = v; // includes v === bestV (a tie -> gap 0; best keeps the lowest id)
    }
    return { id: best, gap: bestV - secondV };
}

let llama, loadedVariant = null;
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
    // the CPU variant ggml loaded: the libggml-cpu-*.so mapped into this process
    const mapped = new Set(fs.readFileSync("/proc/self/maps", "utf8").split("\n")
        .map((line) => VARIANT_FILE.exec(path.basename(line.trim().split(/\s+/).pop() ?? ""))?.[1]).filter(Boolean));
    if (mapped.size !== 1) throw new Error(`expected one ggml CPU backend mapped, found [${[...mapped].join(", ")}]`);
    loadedVariant = [...mapped][0];
} catch (e) {
    if (cpuVariant) {
        process.stderr.write(`llama-ref: CPU variant ${cpuVariant} does not load on this CPU (${e?.name ?? e})\n`);
        process.exit(4);
    }
    fail(3, `cannot initialise llama.cpp: ${e?.message ?? e}`);
}
if (cpuVariant && loadedVariant !== cpuVariant) {
    process.stderr.write(`llama-ref: asked for CPU variant ${cpuVariant}, ggml loaded ${loadedVariant}\n`);
    process.exit(4);
}
if (probe) {
    process.stdout.write(JSON.stringify({ cpu_variant: loadedVariant }) + "\n");
    await llama.dispose();
    process.exit(0);
}

/** Runs one job; returns the output object. Exits (2 or 3) on failure. */
async function runJob({ model: modelPath, promptIds, greedy, sequential }) {
    let model, context;
    try {
        model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
    } catch (e) {
        fail(3, `cannot load model ${modelPath}: ${e?.message ?? e}`);
    }
    const nVocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length;
    for (const id of promptIds) {
        if (nVocab !== undefined && id >= nVocab) fail(2, `prompt id ${id} is outside the vocabulary (n_vocab ${nVocab}) of ${modelPath}`);
    }
    try {
        const needed = promptIds.length + greedy;
        context = await model.createContext({
            contextSize: Math.max(needed, 16),
            batchSize: sequential ? 1 : Math.max(promptIds.length, 1),
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
        let first;
        if (sequential) {
            for (const id of promptIds.slice(0, -1)) await sequence.controlledEvaluate([id]);
            first = await logitsAt([stepItem(promptIds[promptIds.length - 1])]);
        } else first = await logitsAt([...promptIds.slice(0, -1), stepItem(promptIds[promptIds.length - 1])]);
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
        return { logits: Array.from(first.arr), greedy_ids: greedyIds, top2_gaps: gaps };
    } catch (e) {
        fail(3, `evaluation of ${modelPath} failed: ${e?.message ?? e}`);
    } finally {
        await context?.dispose();
        await model?.dispose();
    }
}

try {
    for (const job of jobs) {
        const out = await runJob(job);
        process.stdout.write(JSON.stringify(job.tagged ? { model: job.model, cpu_variant: loadedVariant, ...out }
            : { cpu_variant: loadedVariant, ...out }) + "\n");
    }
} finally {
    await llama?.dispose();
}
