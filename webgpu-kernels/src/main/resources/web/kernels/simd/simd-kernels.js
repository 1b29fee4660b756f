// Loader for the hand-written WebAssembly SIMD kernels (built from src/main/wat/simd-kernels.wat).
//
//   import { loadSimdKernels } from "/kernels/simd/simd-kernels.js";
//   const k = await loadSimdKernels({ threads: 2 });          // relaxed SIMD when the browser validates it
//   const w = k.alloc(bytes);  k.u8().set(chunk, w + off);    // stream GGUF tensor bytes straight into memory
//   k.quantizeQ8_0(xPtr, xq8Ptr, cols);  k.matvecQ4_0(w, xq8Ptr, outPtr, rows, cols);
//   k.quantizeQ8_K(xPtr, xq8kPtr, cols); k.matvecQ4_K(w, xq8kPtr, outPtr, rows, cols);   // Q4_K / Q6_K weights
//
// Everything lives in one WebAssembly.Memory (shared when threads > 1): the caller keeps only offsets. Mat-vecs
// are split by rows across the calling thread and threads-1 Workers that run the same module on the same
// memory; calls are synchronous (the caller spins, or Atomics.waits when it is itself a Worker). A Worker loads
// this file as a module too, for the shared chunk-claiming loop.
// Layouts and numerics are documented at the top of simd-kernels.wat.

const VARIANT_FILES = {
  plain: "simd-kernels.wasm",
  relaxed: "simd-kernels-relaxed.wasm",
  "plain-mt": "simd-kernels-mt.wasm",
  "relaxed-mt": "simd-kernels-relaxed-mt.wasm",
};
/** Row-range kernels that can be split across threads; the index is the op code the workers receive. */
export const ROW_KERNELS = [
  "matvec_q4_0_q8_0", "matvec_q8_0_q8_0", "matvec_f32", "matvec_q4_k_q8_k", "matvec_q6_k_q8_k",
  "matmul_q4_0_q8_0", "matmul_q8_0_q8_0", "matmul_q4_k_q8_k", "matmul_q6_k_q8_k",
  "matvec_q4_0_q8_0w", "matvec_q8_0_q8_0w", "matmul_q4_0_q8_0w", "matmul_q8_0_q8_0w",
  "matvec_q4_k_q8_kw", "matvec_q6_k_q8_kw", "matmul_q4_k_q8_kw", "matmul_q6_k_q8_kw",
  "attn_heads", "matvec_q4_0x4_q8_0", "matmul_q4_0x4_q8_0", "matvec_q4_0x4_q8_0_nosub",
];
const ATTN_OP = 17, Q4_0X4_MATVEC = 18, Q4_0X4_MATMUL = 19, Q4_0X4_MATVEC_NOSUB = 20;
/** The attention arguments block (inside the first, never allocated KiB of the memory). */
const ATTN_PARAMS = 512;
const PAGE = 65536;
/** How long the calling thread spins on a split job's last chunks before it sleeps in Atomics.wait. */
const CALLER_SPIN_MS = 0.2;
/** Row kernels one hand-off can carry (a job group: q|k|v, or gate|up). */
export const MAX_SEGMENTS = 4;
// Control block (Int32Array over a SharedArrayBuffer), shared with simd-kernels-worker.js: a job is SEGMENTS row
// kernels whose chunks are numbered consecutively (segment s owns chunks FIRST .. FIRST + ceil(ROWS / CHUNK) - 1);
// segment s's fields start at SEG + s * SEG_INTS.
export const GEN = 0, CLAIM = 1, FINISHED = 2, SEGMENTS = 3, CHUNKS = 4, SEG = 8, SEG_INTS = 11;
export const S_OP = 0, S_W = 1, S_X = 2, S_OUT = 3, S_COLS = 4, S_ROWS = 5, S_CHUNK = 6, S_FIRST = 7, S_NTOK = 8,
  S_XSTRIDE = 9, S_OUTSTRIDE = 10;
export const CTRL_INTS = SEG + MAX_SEGMENTS * SEG_INTS;

/**
 * Claims and runs chunks of job `gen` until none is left (called by the caller and by every Worker); fns[op] is
 * the row kernel of op code op (ROW_KERNELS).
 */
export function runChunks(c, gen, fns) {
  for (;;) {
    const v = Atomics.load(c, CLAIM);
    if (v >>> 16 !== gen) return;
    const i = v & 0xffff;
    if (i >= c[CHUNKS]) return;
    if (Atomics.compareExchange(c, CLAIM, v, v + 1) !== v) continue;
    // the claimed chunk keeps this job unfinished, so its arguments cannot change until we report it
    let s = SEG;
    for (let last = SEG + (c[SEGMENTS] - 1) * SEG_INTS; s < last && i >= c[s + SEG_INTS + S_FIRST];) s += SEG_INTS;
    const from = (i - c[s + S_FIRST]) * c[s + S_CHUNK], to = Math.min(c[s + S_ROWS], from + c[s + S_CHUNK]);
    fns[c[s + S_OP]](c[s + S_W], c[s + S_X], c[s + S_OUT], from, to, c[s + S_COLS], c[s + S_NTOK], c[s + S_XSTRIDE],
      c[s + S_OUTSTRIDE]);
    Atomics.add(c, FINISHED, 1);
    Atomics.notify(c, FINISHED);
  }
}

/** Bytes of a Q8 activation buffer for n values (n a multiple of 32). */
export const q8Bytes = (n) => (n / 32) * 40;

/** Bytes of a Q8_K activation buffer for n values (n a multiple of 256): qs | i16 bsums | f32 d, 292 per 256. */
export const q8KBytes = (n) => (n / 256) * 292;

/** Bytes of a wide Q8 activation buffer (widenQ8_0) for n values: i16 qs | f32 d | i32 sum, 72 per 32. */
export const q8WideBytes = (n) => (n / 32) * 72;

/** Bytes of a wide Q8_K activation buffer (widenQ8_K) for n values: i16 qs | i16 bsums | f32 d, 548 per 256. */
export const q8KWideBytes = (n) => (n / 256) * 548;

function checkQ4_0X4(fn, rows, cols) {
  if (rows % 4 || cols % 128) throw new RangeError(`${fn}: rows must be a multiple of 4 and cols of 128`);
}

/** True when the page may share memory with Workers (needs COOP/COEP: crossOriginIsolated). */
export const threadsAvailable = () =>
  typeof SharedArrayBuffer === "function" && globalThis.crossOriginIsolated === true;

const fetchBytes = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
};

/**
 * @param {object} [o]
 * @param {number} [o.threads=1] total threads (the caller + threads-1 Workers); > 1 needs crossOriginIsolated
 * @param {boolean|"auto"} [o.relaxed="auto"] use the relaxed-SIMD build; "auto" = when WebAssembly.validate accepts it
 * @param {number} [o.initialBytes] initial memory; [o.maximumBytes] maximum (default 2 GiB; at most 4 GiB)
 * @param {string|URL} [o.baseUrl] folder holding the .wasm files (default: next to this script)
 * @param {number} [o.minRowsPerThread=64] mat-vecs with fewer rows per thread run on the caller only
 * @param {number} [o.chunksPerThread=16] a split mat-vec is cut into about this many chunks per thread (each thread
 *   claims the next free chunk: finer chunks shorten the wait for the slowest thread at the end of a job)
 */
export async function loadSimdKernels(o = {}) {
  const threads = Math.max(1, o.threads ?? 1);
  const base = new URL(o.baseUrl ?? ".", import.meta.url);
  if (threads > 1 && !threadsAvailable()) {
    throw new Error("threads > 1 need a cross-origin isolated page (COOP: same-origin, COEP: require-corp)");
  }
  const mt = threads > 1 ? "-mt" : "";
  const relaxedBytes = await fetchBytes(new URL(VARIANT_FILES["relaxed" + mt], base));
  const relaxedOk = WebAssembly.validate(relaxedBytes);
  const wantRelaxed = o.relaxed === undefined || o.relaxed === "auto" ? relaxedOk : !!o.relaxed;
  if (wantRelaxed && !relaxedOk) throw new Error("relaxed SIMD requested but WebAssembly.validate rejects it");
  const bytes = wantRelaxed ? relaxedBytes : await fetchBytes(new URL(VARIANT_FILES["plain" + mt], base));
  const module = await WebAssembly.compile(bytes);
  const maximumBytes = Math.min(o.maximumBytes ?? 2 ** 31, 2 ** 32);
  const memory = new WebAssembly.Memory({
    initial: Math.ceil((o.initialBytes ?? 16 * 2 ** 20) / PAGE),
    maximum: Math.ceil(maximumBytes / PAGE),
    shared: threads > 1,
  });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const k = new SimdKernels(module, instance, memory, wantRelaxed, threads, o.minRowsPerThread ?? 64,
    o.chunksPerThread ?? 16);
  if (threads > 1) await k._startWorkers(new URL("simd-kernels-worker.js", import.meta.url), threads - 1);
  return k;
}

export class SimdKernels {
  constructor(module, instance, memory, relaxed, threads, minRowsPerThread, chunksPerThread) {
    this.module = module;
    this.exports = instance.exports;
    this.memory = memory;
    this.relaxed = relaxed;
    this.threads = threads;
    this.variant = (relaxed ? "relaxed" : "plain") + (threads > 1 ? "-mt" : "");
    this.minRowsPerThread = minRowsPerThread;
    this.chunksPerThread = chunksPerThread;
    this._fns = ROW_KERNELS.map((n) => instance.exports[n]);
    this._group = null;
    this.workers = [];
    this.ctrl = null;
    this._top = 1024; // keep offset 0 unused so a zero pointer is never valid data
    this._canWait = typeof WorkerGlobalScope !== "undefined";
  }

  /** Reserves bytes (aligned, default 64) in the kernel memory, growing it; returns the offset. */
  alloc(bytes, align = 64) {
    const ptr = Math.ceil(this._top / align) * align;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this._top = end;
    return ptr;
  }

  /** Frees everything allocated after `mark` (a value previously returned by mark()). */
  mark() { return this._top; }
  release(mark) { this._top = mark; }

  u8() { return new Uint8Array(this.memory.buffer); }
  f32(ptr, n) { return new Float32Array(this.memory.buffer, ptr, n); }

  quantizeQ8_0(xPtr, yPtr, n) {
    if (n % 32) throw new RangeError("quantizeQ8_0: n must be a multiple of 32");
    this.exports.quantize_q8_0(xPtr, yPtr, n);
  }
  matvecQ4_0(wPtr, xq8Ptr, outPtr, rows, cols) { this._rows(0, wPtr, xq8Ptr, outPtr, rows, cols, 32); }
  matvecQ8_0(wPtr, xq8Ptr, outPtr, rows, cols) { this._rows(1, wPtr, xq8Ptr, outPtr, rows, cols, 32); }
  matvecF32(wPtr, xPtr, outPtr, rows, cols) { this._rows(2, wPtr, xPtr, outPtr, rows, cols, 1); }

  /**
   * Plain-SIMD fast path for Q4_0/Q8_0: widenQ8_0 turns a Q8 activation buffer (quantizeQ8_0) into the wide
   * i16 layout (q8WideBytes(n) bytes) that matvecQ4_0W / matvecQ8_0W / matmulQ4_0W / matmulQ8_0W read. Outputs are
   * bit-identical to matvecQ4_0 / matvecQ8_0; on the relaxed build those remain the faster choice.
   */
  widenQ8_0(xqPtr, xwPtr, n) {
    if (n % 32) throw new RangeError("widenQ8_0: n must be a multiple of 32");
    this.exports.widen_q8_0(xqPtr, xwPtr, n);
  }
  matvecQ4_0W(wPtr, xwPtr, outPtr, rows, cols) { this._rows(9, wPtr, xwPtr, outPtr, rows, cols, 32); }
  matvecQ8_0W(wPtr, xwPtr, outPtr, rows, cols) { this._rows(10, wPtr, xwPtr, outPtr, rows, cols, 32); }
  matmulQ4_0W(w, xw, out, rows, cols, nTok, xStride = q8WideBytes(cols), outStride = rows * 4) {
    this._rows(11, w, xw, out, rows, cols, 32, nTok, xStride, outStride);
  }
  matmulQ8_0W(w, xw, out, rows, cols, nTok, xStride = q8WideBytes(cols), outStride = rows * 4) {
    this._rows(12, w, xw, out, rows, cols, 32, nTok, xStride, outStride);
  }

  /** Same plain-SIMD fast path for Q4_K/Q6_K: Q8_K buffer (quantizeQ8_K) -> wide buffer (q8KWideBytes(n)). */
  widenQ8_K(xqPtr, xwPtr, n) {
    if (n % 256) throw new RangeError("widenQ8_K: n must be a multiple of 256");
    this.exports.widen_q8_k(xqPtr, xwPtr, n);
  }
  matvecQ4_KW(wPtr, xwPtr, outPtr, rows, cols) { this._rows(13, wPtr, xwPtr, outPtr, rows, cols, 256); }
  matvecQ6_KW(wPtr, xwPtr, outPtr, rows, cols) { this._rows(14, wPtr, xwPtr, outPtr, rows, cols, 256); }
  matmulQ4_KW(w, xw, out, rows, cols, nTok, xStride = q8KWideBytes(cols), outStride = rows * 4) {
    this._rows(15, w, xw, out, rows, cols, 256, nTok, xStride, outStride);
  }
  matmulQ6_KW(w, xw, out, rows, cols, nTok, xStride = q8KWideBytes(cols), outStride = rows * 4) {
    this._rows(16, w, xw, out, rows, cols, 256, nTok, xStride, outStride);
  }

  /** Q8_K activations for the K-quant mat-vecs (ggml's quantize_row_q8_K_ref); n a multiple of 256. */
  quantizeQ8_K(xPtr, yPtr, n) {
    if (n % 256) throw new RangeError("quantizeQ8_K: n must be a multiple of 256");
    this.exports.quantize_q8_k(xPtr, yPtr, n);
  }
  /** Q4_K / Q6_K weights x a Q8_K activation buffer (quantizeQ8_K); cols a multiple of 256. */
  matvecQ4_K(wPtr, xq8kPtr, outPtr, rows, cols) { this._rows(3, wPtr, xq8kPtr, outPtr, rows, cols, 256); }
  matvecQ6_K(wPtr, xq8kPtr, outPtr, rows, cols) { this._rows(4, wPtr, xq8kPtr, outPtr, rows, cols, 256); }

  /**
   * Prefill: nTok mat-vecs against the same weights in one pass over them. Token t reads the activation buffer at
   * xqPtr + t*xStride (Q8_0 buffers for Q4_0/Q8_0, Q8_K for Q4_K/Q6_K; default stride: q8Bytes/q8KBytes(cols))
   * and writes rows floats at outPtr + t*outStride (default rows*4). Outputs equal nTok separate mat-vecs bit for bit.
   */
  matmulQ4_0(w, xq, out, rows, cols, nTok, xStride = q8Bytes(cols), outStride = rows * 4) {
    this._rows(5, w, xq, out, rows, cols, 32, nTok, xStride, outStride);
  }
  matmulQ8_0(w, xq, out, rows, cols, nTok, xStride = q8Bytes(cols), outStride = rows * 4) {
    this._rows(6, w, xq, out, rows, cols, 32, nTok, xStride, outStride);
  }
  matmulQ4_K(w, xq, out, rows, cols, nTok, xStride = q8KBytes(cols), outStride = rows * 4) {
    this._rows(7, w, xq, out, rows, cols, 256, nTok, xStride, outStride);
  }
  matmulQ6_K(w, xq, out, rows, cols, nTok, xStride = q8KBytes(cols), outStride = rows * 4) {
    this._rows(8, w, xq, out, rows, cols, 256, nTok, xStride, outStride);
  }

  /**
   * The 4-row interleaved Q4_0 layout ("x4", described in simd-kernels.wat): repackQ4_0X4 rearranges a Q4_0 matrix
   * in place (rows a multiple of 4, cols of 128); matvecQ4_0X4 / matmulQ4_0X4 then compute what matvecQ4_0 /
   * matmulQ4_0 compute on the original bytes, bit for bit, reading each weight byte once with no horizontal sums
   * (about 1.5x the throughput with relaxed SIMD); dequantRowQ4_0X4 writes one row as f32 (the embedding lookup).
   * repackQ4_0X4 returns how many of the matrix's scales are subnormal f16: when none are, pass
   * noSubnormalScales = true to matvecQ4_0X4 for a kernel with a cheaper scale conversion (same outputs; on
   * subnormal scales it would stay exact but run slowly, through x86 microcode assists).
   */
  repackQ4_0X4(wPtr, rows, cols) {
    checkQ4_0X4("repackQ4_0X4", rows, cols);
    const m = this.mark();
    try {
      return this.exports.repack_q4_0x4(wPtr, rows, cols, this.alloc((cols / 32) * 72));
    } finally {
      this.release(m);
    }
  }
  matvecQ4_0X4(wPtr, xq8Ptr, outPtr, rows, cols, noSubnormalScales = false) {
    checkQ4_0X4("matvecQ4_0X4", rows, cols);
    this._rows(noSubnormalScales ? Q4_0X4_MATVEC_NOSUB : Q4_0X4_MATVEC, wPtr, xq8Ptr, outPtr, rows, cols, 128);
  }
  matmulQ4_0X4(w, xq, out, rows, cols, nTok, xStride = q8Bytes(cols), outStride = rows * 4) {
    checkQ4_0X4("matmulQ4_0X4", rows, cols);
    this._rows(Q4_0X4_MATMUL, w, xq, out, rows, cols, 128, nTok, xStride, outStride);
  }
  dequantRowQ4_0X4(wPtr, row, cols, outPtr) {
    checkQ4_0X4("dequantRowQ4_0X4", 4, cols);
    this.exports.dequant_row_q4_0x4(wPtr, row, cols, outPtr);
  }

  rmsnorm(xPtr, wPtr, outPtr, n, eps) { this.exports.rmsnorm(xPtr, wPtr, outPtr, n, eps); }
  swiglu(gatePtr, upPtr, outPtr, n) { this.exports.swiglu(gatePtr, upPtr, outPtr, n); }
  softmax(ptr, n) { this.exports.softmax(ptr, n); }
  exp(xPtr, outPtr, n) { this.exports.exp_f32(xPtr, outPtr, n); }
  attnScores(qPtr, kPtr, outPtr, nPos, headDim, kStrideBytes, scale) {
    this.exports.attn_scores(qPtr, kPtr, outPtr, nPos, headDim, kStrideBytes, scale);
  }
  /**
   * Causal GQA attention of one query per head over positions [0, nPos) of an f32 KV cache (rows of
   * nKvHead*headDim values): per head softmax(scale * q.k) . v; heads split across the threads. scoresPtr is
   * nHead*nPos f32 of scratch (one run per head). Outputs equal per-head attnScores / softmax / attnValues.
   */
  attention(qPtr, kPtr, vPtr, outPtr, scoresPtr, nHead, nKvHead, headDim, nPos, scale) {
    if (this._group) throw new Error("attention: not inside a job group (its arguments block is single)");
    if (nHead % nKvHead || headDim % 4) throw new RangeError("attention: nHead % nKvHead and headDim % 4 must be 0");
    const p = new Int32Array(this.memory.buffer, ATTN_PARAMS, 10);
    p.set([qPtr, kPtr, vPtr, outPtr, scoresPtr, nHead / nKvHead, headDim, nPos, 4 * nKvHead * headDim]);
    new Float32Array(this.memory.buffer, ATTN_PARAMS + 36, 1)[0] = scale;
    this._rows(ATTN_OP, ATTN_PARAMS, 0, 0, nHead, 1, 1, 0, 0, 0, Math.max(1, Math.ceil(4096 / (nPos * headDim))));
  }
  /** RoPE (adjacent pairs) of nHeads heads at vPtr by the table at csPtr: headDim/2 cos, then headDim/2 sin. */
  rope(vPtr, nHeads, headDim, csPtr) { this.exports.rope(vPtr, nHeads, headDim, csPtr); }
  /** y[i] += x[i] (f32). */
  add(yPtr, xPtr, n) { this.exports.add_f32(yPtr, xPtr, n); }
  /** Index of the largest of n f32 (lowest index on ties; NaNs skipped). */
  argmax(ptr, n) { return this.exports.argmax_f32(ptr, n); }
  attnValues(probsPtr, vPtr, outPtr, nPos, headDim, vStrideBytes) {
    if (headDim % 4) throw new RangeError("attnValues: headDim must be a multiple of 4");
    this.exports.attn_values(probsPtr, vPtr, outPtr, nPos, headDim, vStrideBytes);
  }

  /**
   * Starts a job group: the row kernels called until endJobGroup() (at most MAX_SEGMENTS; a fuller group runs
   * what it holds first) run as one job, so the threads meet once for all of them instead of once each - q|k|v,
   * or gate|up, of a decode step. Their outputs are only defined after endJobGroup(): a kernel of the group must not
   * read another's output. Without Workers the kernels run at once. Other calls (quantize, norms) run at once.
   */
  beginJobGroup() {
    if (this._group) throw new Error("beginJobGroup: a job group is already open");
    this._group = [];
  }

  /** Runs the open job group's row kernels (see beginJobGroup). */
  endJobGroup() {
    const g = this._group;
    if (!g) throw new Error("endJobGroup without beginJobGroup");
    this._group = null;
    if (g.length) this._run(g);
  }

  /**
   * Runs a row kernel over rows [0, rows): now, or, inside a job group with Workers, when the group ends. Rows are
   * split into chunks that the caller and the Workers claim from a shared counter (so a Worker the OS has not
   * scheduled yet delays nothing: the caller takes its chunks).
   */
  _rows(op, w, x, out, rows, cols, colMultiple, nTok = 0, xStride = 0, outStride = 0, minRows = this.minRowsPerThread) {
    if (cols % colMultiple) throw new RangeError(`${ROW_KERNELS[op]}: cols must be a multiple of ${colMultiple}`);
    if (this.workers.length === 0) {
      this._fns[op](w, x, out, 0, rows, cols, nTok, xStride, outStride);
      return;
    }
    const seg = [op, w, x, out, cols, rows, minRows, nTok, xStride, outStride];
    if (!this._group) {
      this._run([seg]);
      return;
    }
    if (this._group.length === MAX_SEGMENTS) this._run(this._group.splice(0));
    this._group.push(seg);
  }

  /**
   * Runs segments [op, w, x, out, cols, rows, minRows, nTok, xStride, outStride] as one job: on the caller alone when
   * they are small, else split into chunks of a multiple of 4 rows (the x4 kernels run groups of 4; any split gives
   * the other kernels' rows). The claim word packs (job generation << 16 | next chunk), so a late Worker can never
   * claim a chunk of a newer job with the arguments of an older one; returns when every chunk is finished.
   */
  _run(segs) {
    let total = 0, minRows = 0;
    for (const sg of segs) { total += sg[5]; minRows = Math.max(minRows, sg[6]); }
    if (total < 2 * minRows) {
      for (const [op, w, x, out, cols, rows, , nTok, xStride, outStride] of segs) {
        this._fns[op](w, x, out, 0, rows, cols, nTok, xStride, outStride);
      }
      return;
    }
    const c = this.ctrl;
    let chunks = 0;
    for (let i = 0; i < segs.length; i++) {
      const [op, w, x, out, cols, rows, segMin, nTok, xStride, outStride] = segs[i];
      const chunk = Math.ceil(Math.max(segMin, Math.ceil(rows / (this.chunksPerThread * this.threads))) / 4) * 4;
      const o = SEG + i * SEG_INTS;
      c[o + S_OP] = op; c[o + S_W] = w; c[o + S_X] = x; c[o + S_OUT] = out; c[o + S_COLS] = cols;
      c[o + S_ROWS] = rows; c[o + S_CHUNK] = chunk; c[o + S_FIRST] = chunks;
      c[o + S_NTOK] = nTok; c[o + S_XSTRIDE] = xStride; c[o + S_OUTSTRIDE] = outStride;
      chunks += Math.ceil(rows / chunk);
    }
    const gen = (c[GEN] + 1) & 0xffff;
    c[SEGMENTS] = segs.length;
    c[CHUNKS] = chunks;
    Atomics.store(c, FINISHED, 0);
    Atomics.store(c, CLAIM, gen << 16);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    runChunks(c, gen, this._fns);
    // the other threads' last chunks usually end within microseconds: spin a little before sleeping (a wake-up
    // from Atomics.wait costs tens of microseconds, and a 1B decode step waits here 81 times: 5 jobs per layer + LM head)
    const spinUntil = performance.now() + CALLER_SPIN_MS;
    for (let f; (f = Atomics.load(c, FINISHED)) < chunks;) {
      if (this._canWait && performance.now() > spinUntil) Atomics.wait(c, FINISHED, f, 1);
    }
  }

  async _startWorkers(url, count) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_INTS));
    const ready = [];
    for (let i = 0; i < count; i++) {
      const wk = new Worker(url, { type: "module", name: `simd-kernels-${i}` });
      ready.push(new Promise((resolve, reject) => {
        wk.onmessage = (e) => (e.data && e.data.ready ? resolve() : reject(new Error(String(e.data && e.data.error))));
        wk.onerror = (e) => reject(new Error(`simd worker ${i}: ${e.message}`));
      }));
      wk.postMessage({ module: this.module, memory: this.memory, ctrl: this.ctrl, kernels: ROW_KERNELS });
      this.workers.push(wk);
    }
    await Promise.all(ready);
  }

  /** Stops the workers; the kernels keep working on the calling thread only. */
  close() {
    if (this.ctrl) {
      this.ctrl[SEGMENTS] = -1;
      Atomics.store(this.ctrl, GEN, (this.ctrl[GEN] + 1) & 0xffff);
      Atomics.notify(this.ctrl, GEN);
    }
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
