// KernelBatch: kernels recorded into one command encoder and submitted once (runner.js re-exports it; a
// KernelRunner makes one with runner.batch()).

import { BLOCKS, formatId, rowBytes } from "./formats.js";
import { pickWorkgroupSize, withErrorScope } from "./device.js";

/** Candidate buffer of sample.wgsl (CAP): top-k sets up to this size are drawn entirely on the GPU. */
export const SAMPLE_CAP = 1024;
/** Output tile of the prefill mat-mul (matmul.wgsl): rows x tokens per workgroup. */
const MATMUL_TILE = Object.freeze({ rows: 32, tokens: 32 });

/** Whole-buffer or (offset, size) binding entry; `size` in bytes. */
function bind(binding, buffer, offset = 0, size = undefined) {
  if (!buffer) throw new Error(`binding ${binding}: no buffer`);
  const resource = size === undefined ? { buffer, offset } : { buffer, offset, size };
  return { binding, resource };
}

/** Packs a params record of u32 / f32 fields (16-byte multiple) for a uniform slot. */
function packParams(fields) {
  const n = Math.ceil(fields.length / 4) * 4;
  const buf = new ArrayBuffer(n * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  fields.forEach(([kind, v], i) => {
    if (kind === "f") f[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xFFFFFFFF) throw new Error(`params: bad u32 ${v} at ${i}`);
      u[i] = v;
    }
  });
  return buf;
}
const U = (v) => ["u", v];
const F = (v) => ["f", v];

/**
 * Records kernels into ONE command encoder (one compute pass; copies in between split it) and
 * submits it with ONE queue.submit. Every method awaits only its (cached) pipeline, so a caller
 * awaits them in order and nothing reaches the GPU before submit(). Params of all dispatches go
 * into one uniform arena (one writeBuffer, one slot per dispatch at
 * minUniformBufferOffsetAlignment). Offsets named *Off / offset are in elements for f32 buffers
 * and in bytes for weight buffers (wOffset, segments[].offset, norm.offset is in bytes too).
 * Counters: dispatches, passes, submits, readBytes.
 */
export class KernelBatch {
  constructor(runner) {
    this.runner = runner;
    this.device = runner.device;
    this.ops = [];
    this.reads = [];
    this.dispatches = 0;
    this.submitted = false;
    this.workgroupSizes = {}; // kernel -> workgroup size chosen from the device limits (last dispatch of each)
  }

  /** Records one dispatch; the params uniform goes to binding `paramsAt`; `wg` (its workgroup size) is reported. */
  #dispatch(pipeline, entries, params, groups, label, paramsAt = 4, wg = undefined) {
    if (this.submitted) throw new Error("batch already submitted");
    if (wg !== undefined) this.workgroupSizes[label] = wg;
    const grid = Array.isArray(groups) ? groups : this.runner.grid(groups);
    this.ops.push({ kind: "dispatch", pipeline, entries, params, grid, label, paramsAt });
    this.dispatches++;
  }

  /**
   * Mat-vec over raw GGUF weights (matvec.wgsl). spec: {w, x, y, inDim, segments: [{format, offset
   * (bytes), rows, out (element offset in y)}] (1..3), norm?: {weight (buffer, f32), offset (bytes),
   * eps}, epilogue: "store" | "add" | "glu", rowsPerWorkgroup (default 4 for 16384+ rows, else 2), workgroupSize}.
   */
  async matvec(spec) {
    const segs = spec.segments;
    if (!segs || segs.length < 1 || segs.length > 3) throw new Error("matvec: 1 to 3 segments");
    const epi = spec.epilogue ?? "store";
    if (!["store", "add", "glu"].includes(epi)) throw new Error(`matvec: unknown epilogue ${epi}`);
    if (epi === "glu" && (segs.length !== 2 || segs[0].rows !== segs[1].rows)) {
      throw new Error("matvec glu: two segments (gate, up) with the same rows");
    }
    const fmts = segs.map((sg) => formatId(sg.format));
    fmts.forEach((f) => rowBytes(f, spec.inDim)); // validates block multiples
    // Rows per workgroup: 4 for tall matrices (the LM head: 128k rows still make 32k workgroups), else 2. Workgroup
    // size: enough invocations for ~4 units each (at least 64), within the device's limits. Measured on an H100
    // (docs/engine.md): one unit per invocation (the old choice, 256 on large GPUs) left the LM head at ~500 GB/s,
    // 4 per invocation with 4 rows reached ~840.
    const totalRows = epi === "glu" ? segs[0].rows : segs.reduce((a, sg) => a + sg.rows, 0);
    const R = spec.rowsPerWorkgroup ?? (totalRows >= 16384 ? 4 : 2);
    const nred = (epi === "glu" ? 2 * R : R) + 1;
    const units = Math.max(...fmts.map((f) => {
      const [be] = BLOCKS[f];
      return (spec.inDim / be) * (be === 1 ? 1 : be === 32 ? 4 : 16);
    }));
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, Math.max(64, units / 4), nred, 4 * nred + 16);
    const defines = {
      ROWS: R, FMT0: fmts[0], FMT1: fmts[1] ?? 0, FMT2: fmts[2] ?? 0,
      NORM: !!spec.norm, ADD: epi === "add", GLU: epi === "glu",
    };
    const pipeline = await this.runner.pipeline("matvec", wg, defines);
    const v4 = (f) => [0, 1, 2, 3].map((i) => U(segs[i] ? f(segs[i]) : 0));
    if (spec.norm && spec.norm.offset % 4 !== 0) throw new Error("matvec: norm offset must be 4-byte aligned");
    const params = packParams([
      U(spec.inDim), F(spec.norm?.eps ?? 0), U(segs.length), U(spec.norm ? spec.norm.offset / 4 : 0),
      ...v4((sg) => sg.offset), ...v4((sg) => sg.rows), ...v4((sg) => sg.out ?? 0),
    ]);
    const entries = [bind(0, spec.w), bind(1, spec.x), bind(3, spec.y)];
    if (spec.norm) entries.push(bind(2, spec.norm.weight));
    const groups = epi === "glu" ? Math.ceil(segs[0].rows / R) : segs.reduce((a, sg) => a + Math.ceil(sg.rows / R), 0);
    this.#dispatch(pipeline, entries, params, groups, "matvec", 4, wg);
  }

  /**
   * Prefill mat-mul (matmul.wgsl): Y[t, row] (+)= W[row,:] · norm(X[t,:]). spec: {w, x, y, inDim, nTok, xOffset,
   * xStride (default inDim), yStride (default: the rows of all segments), add, norm?: {weight (f32 buffer), offset
   * (bytes), eps} (RMSNorm of each X row fused in), segments: [{format, offset (bytes), rows, out (element offset of
   * Y[0, row 0])}] (1..3, same in_dim)} — or, for one matrix, format, wOffset, rows, yOffset instead of segments.
   * tile: {rows, tokens} (32 or 64 each) overrides the output tile of MATMUL_TILE (the tests and tuning runs).
   */
  async matmul(spec) {
    const segs = spec.segments ?? [{ format: spec.format, offset: spec.wOffset ?? 0, rows: spec.rows, out: spec.yOffset ?? 0 }];
    if (segs.length < 1 || segs.length > 3) throw new Error("matmul: 1 to 3 segments");
    const fmts = segs.map((sg) => formatId(sg.format));
    fmts.forEach((f) => rowBytes(f, spec.inDim));
    if (spec.norm && spec.norm.offset % 4 !== 0) throw new Error("matmul: norm offset must be 4-byte aligned");
    const tile = spec.tile ?? MATMUL_TILE;
    if (![32, 64].includes(tile.rows) || ![32, 64].includes(tile.tokens)) throw new Error("matmul: tiles of 32 or 64 rows and tokens");
    // K chunk: 32 (one Q4_0/Q8_0 block) while the two staged tiles fit 8.25 KiB, else 16
    const bk = tile.rows + tile.tokens > 64 ? 16 : 32;
    const pipeline = await this.runner.pipeline("matmul", null, {
      FMT0: fmts[0], FMT1: fmts[1] ?? 0, FMT2: fmts[2] ?? 0, ADD: !!spec.add, NORM: !!spec.norm,
      TR: tile.rows, TT: tile.tokens, BK: bk,
    });
    const v4 = (f) => [0, 1, 2, 3].map((i) => U(segs[i] ? f(segs[i]) : 0));
    const params = packParams([
      U(spec.inDim), U(spec.nTok), U(segs.length), U(spec.xStride ?? spec.inDim),
      U(spec.yStride ?? segs.reduce((a, sg) => a + sg.rows, 0)), U(spec.xOffset ?? 0),
      U(spec.norm ? spec.norm.offset / 4 : 0), F(spec.norm?.eps ?? 0),
      ...v4((sg) => sg.offset), ...v4((sg) => sg.rows), ...v4((sg) => sg.out ?? 0),
    ]);
    const entries = [bind(0, spec.w), bind(1, spec.x), bind(3, spec.y)];
    if (spec.norm) entries.push(bind(2, spec.norm.weight));
    const tiles = segs.reduce((a, sg) => a + Math.ceil(sg.rows / tile.rows), 0);
    this.#dispatch(pipeline, entries, params, [tiles, Math.ceil(spec.nTok / tile.tokens), 1], "matmul", 4, 256);
  }

  #attnParams(s) {
    const d = s.headDim;
    if (d % 2 !== 0 || d > 256) throw new Error(`head_dim ${d}: must be even and <= 256`);
    if (s.nHead % s.nKvHead !== 0) throw new Error(`n_head ${s.nHead} is not a multiple of n_kv_head ${s.nKvHead}`);
    const qDim = s.nHead * d;
    const kvDim = s.nKvHead * d;
    return packParams([
      U(d), U(s.nHead), U(s.nKvHead), U(s.nTok ?? 1),
      U(s.pos0), U(s.qOff ?? 0), U(s.kOff ?? qDim), U(s.vOff ?? qDim + kvDim),
      U(s.qStride ?? qDim + 2 * kvDim), U(s.kvStride ?? kvDim), U(s.outStride ?? qDim), F(s.kqScale ?? 1 / Math.sqrt(d)),
      F(s.freqBase ?? 10000), U(s.freqs ? 1 : 0), U(s.cacheOff ?? 0), U(s.freqs ? (s.freqsOffset ?? 0) / 4 : 0),
    ]);
  }

  /** A dummy f32 buffer for the freqs binding when the model has no rope_freqs. */
  #noFreqs() {
    return (this.runner.noFreqs ??= this.runner.createBuffer(16));
  }

  /**
   * Attention over the KV cache (attention.wgsl). spec: {qkv, kCache, vCache, out, headDim, nHead,
   * nKvHead, nTok (1), pos0, qOff, kOff, vOff, qStride (element offsets / strides in qkv; defaults:
   * a fused Q|K|V row), kvStride, cacheOff, outStride, kqScale, freqBase, freqs (buffer) +
   * freqsOffset (bytes), fusedRope (decode: RoPE + KV append fused, nTok must be 1), workgroupSize}.
   */
  async attention(spec) {
    const fused = !!spec.fusedRope;
    if (fused && (spec.nTok ?? 1) !== 1) throw new Error("attention: fusedRope needs nTok == 1");
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.headDim, 2, 4 * 4 * 256 + 16);
    const pipeline = await this.runner.pipeline("attention", wg, { FUSED_ROPE: fused });
    const entries = [bind(0, spec.qkv), bind(1, spec.kCache), bind(2, spec.vCache), bind(4, spec.out)];
    if (fused) entries.push(bind(3, spec.freqs ?? this.#noFreqs()));
    this.#dispatch(pipeline, entries, this.#attnParams(spec), (spec.nTok ?? 1) * spec.nHead, "attention", 5, wg);
  }

  /** RoPE + KV append for nTok tokens (rope_kv.wgsl); spec as attention (no out / kqScale). */
  async ropeKv(spec) {
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.headDim / 2);
    const pipeline = await this.runner.pipeline("rope_kv", wg);
    const entries = [bind(0, spec.qkv), bind(1, spec.kCache), bind(2, spec.vCache), bind(3, spec.freqs ?? this.#noFreqs())];
    this.#dispatch(pipeline, entries, this.#attnParams(spec), (spec.nTok ?? 1) * (spec.nHead + spec.nKvHead), "rope_kv", 5, wg);
  }

  /** RMSNorm (rmsnorm_f32.wgsl) of `rows` rows: {x, weight, y, n, rows, eps, workgroupSize}. */
  async rmsnorm(spec) {
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.n);
    const pipeline = await this.runner.pipeline("rmsnorm_f32", wg);
    const params = packParams([U(spec.n), U(spec.rows), F(spec.eps), U(0)]);
    this.#dispatch(pipeline, [bind(0, spec.x), bind(1, spec.weight), bind(2, spec.y)], params, spec.rows, "rmsnorm", 3);
  }

  async #elementwise(op, spec, entries) {
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.n);
    const pipeline = await this.runner.pipeline("elementwise", wg, { [op]: true });
    const params = packParams([U(spec.n), U(spec.aOff ?? 0), U(spec.bOff ?? 0), U(spec.yOff ?? 0)]);
    this.#dispatch(pipeline, entries, params, Math.ceil(spec.n / wg), op.toLowerCase(), 4, wg);
  }

  /** y[yOff+i] = silu(a[aOff+i]) * b[bOff+i], i < n. */
  async swiglu(spec) {
    return this.#elementwise("SWIGLU", spec, [bind(0, spec.a), bind(1, spec.b), bind(3, spec.y)]);
  }

  /** y[yOff+i] += a[aOff+i], i < n (residual add). */
  async add(spec) {
    return this.#elementwise("ADD", spec, [bind(0, spec.a), bind(3, spec.y)]);
  }

  /** out[outIdx] (u32) = argmax of logits[off .. off+n) (lowest index on ties). */
  async argmax(spec) {
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.n, 2);
    const pipeline = await this.runner.pipeline("argmax", wg);
    const params = packParams([U(spec.n), U(spec.off ?? 0), U(spec.outIdx ?? 0), U(0)]);
    this.#dispatch(pipeline, [bind(0, spec.logits), bind(3, spec.out)], params, 1, "argmax", 4, wg);
  }

  /**
   * Token draw with the Sampler's chain (sample.wgsl): out[outIdx] (u32) = the token id, or 0xFFFFFFFF when the kept
   * set is not bounded by the kernel's candidate buffer (the caller samples the logits on the CPU). spec: {logits,
   * penIds (u32 buffer of distinct ids to penalize), nPen, scratch (n f32), out, outIdx, n, temperature (0 = greedy),
   * topK (0 = all), topP, minP, penalty, u (in [0, 1))}.
   */
  async sample(spec) {
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, 256, 1, 2 * 4 * SAMPLE_CAP + 32);
    const pipeline = await this.runner.pipeline("sample", wg);
    const n = spec.n, greedy = !(spec.temperature > 0);
    const k = greedy ? 1 : (!(spec.topK > 0) || spec.topK > n ? n : spec.topK);
    const params = packParams([
      U(n), U(spec.nPen ?? 0), U(k), U(spec.outIdx ?? 0),
      F(spec.penalty ?? 1), F(greedy ? 1 : 1 / spec.temperature), F(greedy ? 1 : spec.topP ?? 1), F(greedy ? 0 : spec.minP ?? 0),
      F(spec.u ?? 0), U(0), U(0), U(0),
    ]);
    this.#dispatch(pipeline, [bind(0, spec.logits), bind(1, spec.penIds), bind(2, spec.scratch), bind(3, spec.out)],
      params, 1, "sample", 4, wg);
  }

  /**
   * Embedding rows: y[yTok+t,:] = dequant(W row ids[idOff+t] - rowBase); {w, ids, y, format, n, nTok, wOffset (bytes),
   * idOff, yTok, rowBase, rows}. A row-split part: rowBase = its first id, rows = its row count; tokens whose ids are
   * outside it are skipped (y rows left as they were).
   */
  async embed(spec) {
    const fmt = formatId(spec.format);
    rowBytes(fmt, spec.n);
    const wg = spec.workgroupSize || pickWorkgroupSize(this.device, spec.n);
    const pipeline = await this.runner.pipeline("embed", wg, { FMT0: fmt });
    const params = packParams([U(spec.n), U(spec.nTok ?? 1), U(spec.wOffset ?? 0), U(spec.idOff ?? 0), U(spec.yTok ?? 0),
      U(spec.rowBase ?? 0), U(spec.rows ?? 0xFFFFFFFF)]);
    this.#dispatch(pipeline, [bind(0, spec.w), bind(1, spec.ids), bind(3, spec.y)], params, spec.nTok ?? 1, "embed", 4, wg);
  }

  /** Buffer-to-buffer copy, recorded in order (it ends the current compute pass). */
  copy(src, srcOffset, dst, dstOffset, bytes) {
    this.ops.push({ kind: "copy", src, srcOffset, dst, dstOffset, bytes });
  }

  /** Reads `bytes` of `buffer` from `offset` back after submit(); returns the index into submit()'s reads. */
  read(buffer, offset, bytes) {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.runner.takeStaging(Math.max(16, size));
    this.copy(buffer, offset, staging, 0, size);
    this.reads.push({ staging, bytes });
    return this.reads.length - 1;
  }

  /**
   * Encodes everything into one command encoder, submits once, then maps the read-backs.
   * Returns {dispatches, passes, submits: 1, readBytes, reads: [ArrayBuffer...], workgroupSizes}.
   */
  async submit() {
    if (this.submitted) throw new Error("batch already submitted");
    this.submitted = true;
    const device = this.device;
    const align = device.limits.minUniformBufferOffsetAlignment;
    const dispatchOps = this.ops.filter((o) => o.kind === "dispatch");
    const arenaSize = Math.max(1, dispatchOps.length) * align;
    const runner = this.runner;
    if (!runner.arena || runner.arena.size < arenaSize) {
      runner.arena?.destroy();
      runner.arena = device.createBuffer({ size: Math.max(arenaSize, 64 * align), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    }
    const arena = new Uint8Array(arenaSize);
    let passes = 0;
    let maps = [];
    const result = await withErrorScope(device, "batch submit", async () => {
      const enc = device.createCommandEncoder();
      let pass = null;
      let slot = 0;
      for (const op of this.ops) {
        if (op.kind === "copy") {
          if (pass) {
            pass.end();
            pass = null;
          }
          enc.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.bytes);
          continue;
        }
        const off = slot++ * align;
        arena.set(new Uint8Array(op.params), off);
        const entries = [...op.entries, bind(op.paramsAt, runner.arena, off, op.params.byteLength)];
        const bindGroup = runner.bindGroup(op.pipeline, entries, op.label);
        if (!pass) {
          pass = enc.beginComputePass();
          passes++;
        }
        pass.setPipeline(op.pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(op.grid[0], op.grid[1] ?? 1, op.grid[2] ?? 1);
      }
      if (pass) pass.end();
      device.queue.writeBuffer(runner.arena, 0, arena);
      device.queue.submit([enc.finish()]);
      // map the read-backs now, so their round trip overlaps the error scopes' (a failed submit rejects them; each
      // is awaited below, the no-op catch only keeps a rejection not yet awaited from counting as unhandled)
      maps = this.reads.map((r) => {
        const m = r.staging.mapAsync(GPUMapMode.READ);
        m.catch(() => {});
        return m;
      });
    }).catch(async (e) => {
      await Promise.allSettled(maps);
      this.reads.forEach((r) => r.staging.destroy());
      throw e;
    });
    void result;
    const reads = [];
    let readBytes = 0;
    for (const [i, r] of this.reads.entries()) {
      await maps[i];
      reads.push(r.staging.getMappedRange(0, r.bytes).slice(0));
      r.staging.unmap();
      runner.returnStaging(r.staging);
      readBytes += r.bytes;
    }
    return { dispatches: this.dispatches, passes, submits: 1, readBytes, reads, workgroupSizes: this.workgroupSizes };
  }
}
