// Small ES-module runner for the WGSL kernels in this folder.
//
// Given a GPUDevice it loads the kernel templates (relative to this module's URL), preprocesses the
// //#if NAME / //#else / //#endif blocks, creates compute pipelines with the overridable constants
// (WG_SIZE) and runs kernels on Float32Arrays. Works in pages and workers. Used by the kernel tests
// now and by the node's WebGPU backend later.

const KERNEL_FILES = {
  matvec_f32: "matvec_f32.wgsl",
  rmsnorm_f32: "rmsnorm_f32.wgsl",
  matvec: "matvec.wgsl",
  matmul: "matmul.wgsl",
  attention: "attention.wgsl",
  rope_kv: "rope_kv.wgsl",
  elementwise: "elementwise.wgsl",
  argmax: "argmax.wgsl",
  embed: "embed.wgsl",
  sample: "sample.wgsl",
  // include-only files (//#include NAME)
  quant_common: "quant_common.wgsl",
  rope_common: "rope_common.wgsl",
};

/** Candidate buffer of sample.wgsl (CAP): top-k sets up to this size are drawn entirely on the GPU. */
export const SAMPLE_CAP = 1024;
/** Output tile of the prefill mat-mul (matmul.wgsl): rows x tokens per workgroup. */
const MATMUL_TILE = Object.freeze({ rows: 32, tokens: 32 });

/** ggml_type ids of the weight formats the kernels decode (quant_common.wgsl). */
export const FORMATS = Object.freeze({ f32: 0, f16: 1, q4_0: 2, q4_1: 3, q8_0: 8, q4_k: 12, q6_k: 14 });
const BLOCKS = { 0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 8: [32, 34], 12: [256, 144], 14: [256, 210] };

/** Format id from a name ("q4_k") or id (12). */
export function formatId(format) {
  const id = typeof format === "string" ? FORMATS[format.toLowerCase()] : format;
  if (BLOCKS[id] === undefined) throw new Error(`unsupported weight format ${format}`);
  return id;
}

/** Bytes of one row of n elements in the given format (n must be a multiple of the block size). */
export function rowBytes(format, n) {
  const [be, bb] = BLOCKS[formatId(format)];
  if (n % be !== 0) throw new Error(`row length ${n} is not a multiple of the block size ${be} of format ${format}`);
  return (n / be) * bb;
}

/**
 * Applies //#include NAME (inlines sources[NAME], once), {{NAME}} (replaced by defines[NAME]),
 * then //#if NAME, //#ifnot NAME, //#else, //#endif (nestable, one directive per line).
 */
export function preprocess(source, defines = {}, sources = {}) {
  const included = new Set();
  const inline = (src) => src.replace(/^[ \t]*\/\/#include[ \t]+(\w+)[ \t]*$/gm, (_, name) => {
    if (included.has(name)) return "";
    if (sources[name] === undefined) throw new Error(`preprocess: unknown include ${name}`);
    included.add(name);
    return inline(sources[name]);
  });
  source = inline(source).replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (defines[name] === undefined) throw new Error(`preprocess: no value for {{${name}}}`);
    return String(defines[name]);
  });
  const out = [];
  const stack = []; // each: {active, parentActive, taken}
  let active = true;
  source.split("\n").forEach((line, i) => {
    const m = /^\s*\/\/#(if|ifnot|else|endif)\b\s*(\w*)\s*$/.exec(line);
    if (!m) {
      if (active) out.push(line);
      return;
    }
    const [, dir, name] = m;
    if (dir === "if" || dir === "ifnot") {
      const cond = dir === "if" ? !!defines[name] : !defines[name];
      stack.push({ parentActive: active });
      active = active && cond;
      stack[stack.length - 1].cond = cond;
    } else if (dir === "else") {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`preprocess: //#else without //#if at line ${i + 1}`);
      active = top.parentActive && !top.cond;
    } else {
      const top = stack.pop();
      if (!top) throw new Error(`preprocess: //#endif without //#if at line ${i + 1}`);
      active = top.parentActive;
    }
  });
  if (stack.length) throw new Error("preprocess: unterminated //#if");
  return out.join("\n");
}

function largestPow2AtMost(n) {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * Workgroup size for a row-reduction kernel: the largest power of two allowed by the device
 * (maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX, workgroup storage for the f32
 * partials), capped at 256 and at the next power of two >= the row length (no idle invocations
 * for tiny rows), and at least 1.
 */
export function pickWorkgroupSize(device, rowLength = Infinity, floatsPerInvocation = 1, reservedBytes = 16) {
  const l = device.limits;
  let cap = Math.min(
    256,
    l.maxComputeInvocationsPerWorkgroup,
    l.maxComputeWorkgroupSizeX,
    Math.floor((l.maxComputeWorkgroupStorageSize - reservedBytes) / (4 * floatsPerInvocation)),
  );
  let wg = largestPow2AtMost(Math.max(1, cap));
  if (Number.isFinite(rowLength)) {
    let need = 1;
    while (need < rowLength) need *= 2;
    wg = Math.min(wg, need);
  }
  return wg;
}

/** True when the subgroup reduction variant can be compiled on this device. */
export function subgroupsSupported(device) {
  const lang = globalThis.navigator?.gpu?.wgslLanguageFeatures;
  return device.features.has("subgroups") && !!lang && lang.has("subgroup_id");
}

function resolveReduction(device, reduction) {
  const sg = subgroupsSupported(device);
  if (reduction === "auto" || reduction === undefined) return sg ? "subgroup" : "workgroup";
  if (reduction === "subgroup" && !sg) {
    throw new Error("subgroup reduction requested but the device lacks 'subgroups' or WGSL 'subgroup_id'");
  }
  if (reduction !== "subgroup" && reduction !== "workgroup") throw new Error(`unknown reduction ${reduction}`);
  return reduction;
}

async function withErrorScope(device, what, fn) {
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  let result, thrown;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
  }
  // both pops issued at once (out-of-memory first: scopes pop in stack order): one round trip, not two
  const [oom, val] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
  if (thrown) throw thrown;
  if (oom) throw new Error(`${what}: out of memory: ${oom.message}`);
  if (val) throw new Error(`${what}: validation error: ${val.message}`);
  return result;
}

export class KernelRunner {
  /**
   * @param {GPUDevice} device
   * @param {{baseUrl?: string|URL, reduction?: "auto"|"subgroup"|"workgroup"}} [options]
   */
  static async create(device, options = {}) {
    const base = new URL(options.baseUrl ?? "./", import.meta.url);
    const sources = {};
    await Promise.all(Object.entries(KERNEL_FILES).map(async ([name, file]) => {
      const res = await fetch(new URL(file, base));
      if (!res.ok) throw new Error(`fetch ${file}: HTTP ${res.status}`);
      sources[name] = await res.text();
    }));
    return new KernelRunner(device, sources, resolveReduction(device, options.reduction));
  }

  constructor(device, sources, reduction) {
    this.device = device;
    this.sources = sources;
    this.reduction = reduction; // "subgroup" | "workgroup"
    this.pipelines = new Map();
  }

  /**
   * Compute pipeline for a kernel template, workgroup size and template defines (cached). A null
   * workgroupSize is for kernels with a fixed @workgroup_size (matmul).
   */
  async pipeline(name, workgroupSize, defines = {}) {
    if (workgroupSize !== null
      && (!Number.isInteger(workgroupSize) || workgroupSize < 1 || (workgroupSize & (workgroupSize - 1)) !== 0)) {
      throw new Error(`workgroup size must be a power of two, got ${workgroupSize}`);
    }
    const defs = Object.keys(defines).sort().map((k) => `${k}=${defines[k]}`).join(",");
    const key = `${name}/${this.reduction}/${workgroupSize}/${defs}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.#createPipeline(name, workgroupSize, key, defines);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  async #createPipeline(name, workgroupSize, key, defines) {
    const src = this.sources[name];
    if (src === undefined) throw new Error(`unknown kernel ${name}`);
    const code = preprocess(src, { SUBGROUPS: this.reduction === "subgroup", ...defines }, this.sources);
    const device = this.device;
    return withErrorScope(device, `pipeline ${key}`, async () => {
      const module = device.createShaderModule({ label: key, code });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === "error");
      if (errors.length) {
        throw new Error(`WGSL ${key}: ` + errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; "));
      }
      return device.createComputePipelineAsync({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main", constants: workgroupSize === null ? {} : { WG_SIZE: workgroupSize } },
      });
    });
  }

  /** [gx, gy] with gx * gy >= groups and both within maxComputeWorkgroupsPerDimension. */
  grid(groups, maxX) {
    return this.#grid(groups, maxX);
  }

  #grid(groups, maxX) {
    const limit = Math.min(maxX ?? Infinity, this.device.limits.maxComputeWorkgroupsPerDimension);
    const gx = Math.max(1, Math.min(groups, limit));
    return [gx, Math.max(1, Math.ceil(groups / gx))];
  }

  /**
   * Runs one row-parallel kernel: inputs are Float32Arrays bound at 0..k-1, the output at k, the
   * 16-byte params uniform at k+1. Returns the output as a new Float32Array.
   */
  async #run(name, { inputs, outputLength, params, groups, workgroupSize, poison, maxWorkgroupsX }) {
    const device = this.device;
    const pipeline = await this.pipeline(name, workgroupSize);
    const S = GPUBufferUsage;
    const created = [];
    const buffer = (size, usage) => {
      const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage });
      created.push(b);
      return b;
    };
    try {
      return await withErrorScope(device, `run ${name}`, async () => {
        const ins = inputs.map((a) => {
          const b = buffer(a.byteLength, S.STORAGE | S.COPY_DST);
          device.queue.writeBuffer(b, 0, a.buffer, a.byteOffset, a.byteLength);
          return b;
        });
        const outBytes = outputLength * 4;
        const out = buffer(outBytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
        if (poison !== undefined) {
          device.queue.writeBuffer(out, 0, new Float32Array(outputLength).fill(poison));
        }
        const uni = buffer(16, S.UNIFORM | S.COPY_DST);
        device.queue.writeBuffer(uni, 0, params);
        const read = buffer(outBytes, S.MAP_READ | S.COPY_DST);
        const entries = [...ins, out].map((b, i) => ({ binding: i, resource: { buffer: b } }));
        entries.push({ binding: ins.length + 1, resource: { buffer: uni } });
        const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
        const [gx, gy] = this.#grid(groups, maxWorkgroupsX);
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(gx, gy, 1);
        pass.end();
        enc.copyBufferToBuffer(out, 0, read, 0, Math.ceil(outBytes / 4) * 4);
        device.queue.submit([enc.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        const result = new Float32Array(read.getMappedRange(0, outBytes).slice(0));
        read.unmap();
        return result;
      });
    } finally {
      created.forEach((b) => b.destroy());
    }
  }

  /**
   * y = W · x. W: Float32Array holding wOffset + outDim*inDim floats, row r contiguous (llama.cpp
   * ne=[inDim,outDim]); x: inDim floats. Options: workgroupSize (power of two; default from
   * device.limits), poison (fill the output with this value before the dispatch, e.g. NaN),
   * wOffset (elements), maxWorkgroupsX (cap the grid's x extent; exercises the 2-D grid).
   */
  async matvecF32(W, x, inDim, outDim, opts = {}) {
    const wOffset = opts.wOffset ?? 0;
    if (x.length < inDim) throw new Error(`x has ${x.length} < ${inDim} elements`);
    if (W.length < wOffset + inDim * outDim) throw new Error(`W has ${W.length} < ${wOffset + inDim * outDim} elements`);
    return this.#run("matvec_f32", {
      inputs: [W, x],
      outputLength: outDim,
      params: new Uint32Array([inDim, outDim, wOffset, 0]),
      groups: outDim,
      workgroupSize: opts.workgroupSize ?? pickWorkgroupSize(this.device, inDim),
      poison: opts.poison,
      maxWorkgroupsX: opts.maxWorkgroupsX,
    });
  }

  /** A storage buffer of `bytes` bytes (rounded up to 4, at least 16), usable as copy source/target. */
  createBuffer(bytes, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC) {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
  }

  /**
   * Uploads bytes (ArrayBuffer or typed array: raw GGUF tensor bytes, f32 activations...) into a
   * new storage buffer, padded with 4 zero bytes so unaligned u32 loads of the last block stay in
   * bounds.
   */
  upload(data) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const buf = this.createBuffer(bytes.byteLength + 4);
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    this.device.queue.writeBuffer(buf, 0, padded);
    return buf;
  }

  /**
   * A MAP_READ staging buffer of exactly `size` bytes: a spare one when there is one, else a new one. A decode step
   * reads back the same 4 bytes every token, so one buffer serves them all instead of one created and destroyed
   * per token.
   */
  takeStaging(size) {
    const spare = this.stagingPool?.get(size);
    if (spare?.length) return spare.pop();
    return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Gives an unmapped staging buffer back (at most 4 spares are kept per size; the rest are destroyed). */
  returnStaging(buf) {
    this.stagingPool ??= new Map();
    const list = this.stagingPool.get(buf.size) ?? [];
    if (list.length >= 4) {
      buf.destroy();
      return;
    }
    list.push(buf);
    this.stagingPool.set(buf.size, list);
  }

  /**
   * The bind group of `pipeline` with `entries`, made once and reused: a decode step binds the same buffers at the
   * same offsets (the params arena slot is the dispatch's index in the batch) token after token, and creating
   * ~80 bind groups per token is host time that the GPU waits for. Keyed by the identities of the pipeline and of
   * each bound buffer, with offsets and sizes; a buffer replaced (KV cache grown, arena grown) gives new keys. The
   * cache is emptied when it grows past 8192 groups, so groups of replaced buffers do not pile up.
   */
  bindGroup(pipeline, entries, label) {
    const ids = (this.objectIds ??= new WeakMap());
    const id = (o) => {
      let v = ids.get(o);
      if (v === undefined) {
        v = (this.nextObjectId = (this.nextObjectId ?? 0) + 1);
        ids.set(o, v);
      }
      return v;
    };
    let key = String(id(pipeline));
    for (const e of entries) {
      const r = e.resource;
      key += `|${e.binding}:${id(r.buffer)}:${r.offset ?? 0}:${r.size ?? ""}`;
    }
    const cache = (this.bindGroups ??= new Map());
    let g = cache.get(key);
    if (!g) {
      if (cache.size >= 8192) cache.clear();
      g = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
      cache.set(key, g);
    }
    return g;
  }

  /** A new batch: dispatches recorded into one command encoder and submitted once (see KernelBatch). */
  batch() {
    return new KernelBatch(this);
  }

  /** RMSNorm of `rows` rows of length n: x [rows*n], weight [n] -> y [rows*n]. Options as matvecF32. */
  async rmsnormF32(x, weight, n, rows, eps, opts = {}) {
    if (x.length < n * rows) throw new Error(`x has ${x.length} < ${n * rows} elements`);
    if (weight.length < n) throw new Error(`weight has ${weight.length} < ${n} elements`);
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 0, 2).set([n, rows]);
    new Float32Array(params, 8, 1)[0] = eps;
    return this.#run("rmsnorm_f32", {
      inputs: [x, weight],
      outputLength: n * rows,
      params,
      groups: rows,
      workgroupSize: opts.workgroupSize ?? pickWorkgroupSize(this.device, n),
      poison: opts.poison,
      maxWorkgroupsX: opts.maxWorkgroupsX,
    });
  }
}


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

/**
 * Records one decode step of a Llama layer into `batch` — 5 dispatches:
 *   1. matvec NORM (attn_norm fused) over Q|K|V (3 segments, any formats) -> qkv
 *   2. attention FUSED_ROPE (RoPE on q and k, KV-cache append, online-softmax GQA attention) -> attn
 *   3. matvec ADD: x += attn_output · attn
 *   4. matvec NORM + GLU (ffn_norm fused) over gate|up -> ffn = silu(gate) * up
 *   5. matvec ADD: x += ffn_down · ffn
 * layer: {w (buffer with the layer's GGUF bytes), attnNorm, ffnNorm (byte offsets of the f32 norm
 * weights in w), wq, wk, wv, wo, wGate, wUp, wDown: {offset (bytes), format}}.
 * hp: {nEmbd, nHead, nKvHead, headDim, nFf, eps, freqBase}.
 * state: {x (residual stream, nEmbd f32), qkv, attn, ffn (scratch), kCache, vCache, cacheOff,
 * kvStride?, pos, freqs?, freqsOffset?}.
 */
export async function encodeDecodeLayer(batch, layer, hp, state) {
  const qDim = hp.nHead * hp.headDim;
  const kvDim = hp.nKvHead * hp.headDim;
  const seg = (t, rows, out) => ({ format: t.format, offset: t.offset, rows, out });
  await batch.matvec({
    w: layer.w, x: state.x, y: state.qkv, inDim: hp.nEmbd,
    segments: [seg(layer.wq, qDim, 0), seg(layer.wk, kvDim, qDim), seg(layer.wv, kvDim, qDim + kvDim)],
    norm: { weight: layer.w, offset: layer.attnNorm, eps: hp.eps },
  });
  await batch.attention({
    qkv: state.qkv, kCache: state.kCache, vCache: state.vCache, out: state.attn,
    headDim: hp.headDim, nHead: hp.nHead, nKvHead: hp.nKvHead, nTok: 1, pos0: state.pos,
    kvStride: state.kvStride, cacheOff: state.cacheOff ?? 0, freqBase: hp.freqBase,
    freqs: state.freqs, freqsOffset: state.freqsOffset, fusedRope: true,
  });
  await batch.matvec({
    w: layer.w, x: state.attn, y: state.x, inDim: qDim, segments: [seg(layer.wo, hp.nEmbd, 0)], epilogue: "add",
  });
  await batch.matvec({
    w: layer.w, x: state.x, y: state.ffn, inDim: hp.nEmbd,
    segments: [seg(layer.wGate, hp.nFf, 0), seg(layer.wUp, hp.nFf, 0)], epilogue: "glu",
    norm: { weight: layer.w, offset: layer.ffnNorm, eps: hp.eps },
  });
  await batch.matvec({
    w: layer.w, x: state.ffn, y: state.x, inDim: hp.nFf, segments: [seg(layer.wDown, hp.nEmbd, 0)], epilogue: "add",
  });
}

/**
 * Records the prefill of `state.nTok` tokens through one Llama layer into `batch` — 7 dispatches, each weight read
 * once per 32-token tile (matmul.wgsl):
 *   1. matmul NORM (attn_norm fused) over Q|K|V (3 segments) -> qkv rows [nTok, qDim + 2 kvDim]
 *   2. rope_kv: RoPE on q (in place) and k, K/V appended to the caches at pos .. pos + nTok - 1
 *   3. attention, causal over the cache (token t sees positions 0 .. pos + t)
 *   4. matmul ADD: x += attn_output · attn
 *   5. matmul NORM (ffn_norm fused) over gate|up (2 segments) -> gu = [gate rows | up rows]
 *   6. swiglu -> ffn = silu(gate) * up
 *   7. matmul ADD: x += ffn_down · ffn
 * layer, hp: as encodeDecodeLayer. state: {x [nTok, nEmbd] (residual rows), qkv, attn, gu (2 nTok nFf), ffn
 * (scratch rows), kCache, vCache, kvStride?, cacheOff, pos (of the first token), nTok, freqs?, freqsOffset?}.
 */
export async function encodePrefillLayer(batch, layer, hp, state) {
  const qDim = hp.nHead * hp.headDim;
  const kvDim = hp.nKvHead * hp.headDim;
  const n = state.nTok;
  const seg = (t, rows, out) => ({ format: t.format, offset: t.offset, rows, out });
  await batch.matmul({ w: layer.w, x: state.x, y: state.qkv, inDim: hp.nEmbd, nTok: n,
    segments: [seg(layer.wq, qDim, 0), seg(layer.wk, kvDim, qDim), seg(layer.wv, kvDim, qDim + kvDim)],
    norm: { weight: layer.w, offset: layer.attnNorm, eps: hp.eps } });
  const attn = {
    qkv: state.qkv, kCache: state.kCache, vCache: state.vCache, headDim: hp.headDim, nHead: hp.nHead,
    nKvHead: hp.nKvHead, nTok: n, pos0: state.pos, kvStride: state.kvStride, cacheOff: state.cacheOff ?? 0,
    freqBase: hp.freqBase, freqs: state.freqs, freqsOffset: state.freqsOffset,
  };
  await batch.ropeKv(attn);
  await batch.attention({ ...attn, out: state.attn });
  await batch.matmul({ w: layer.w, x: state.attn, y: state.x, inDim: qDim, nTok: n, add: true,
    segments: [seg(layer.wo, hp.nEmbd, 0)] });
  const upOff = n * hp.nFf; // gate rows [0, n·nFf), up rows after them (stride nFf)
  await batch.matmul({ w: layer.w, x: state.x, y: state.gu, inDim: hp.nEmbd, nTok: n, yStride: hp.nFf,
    segments: [seg(layer.wGate, hp.nFf, 0), seg(layer.wUp, hp.nFf, upOff)],
    norm: { weight: layer.w, offset: layer.ffnNorm, eps: hp.eps } });
  await batch.swiglu({ a: state.gu, b: state.gu, bOff: upOff, y: state.ffn, n: n * hp.nFf });
  await batch.matmul({ w: layer.w, x: state.ffn, y: state.x, inDim: hp.nFf, nTok: n, add: true,
    segments: [seg(layer.wDown, hp.nEmbd, 0)] });
}
