// Small ES-module runner for the WGSL kernels in this folder.
//
// Given a GPUDevice it loads the kernel templates (relative to this module's URL), preprocesses the
// //#if NAME / //#else / //#endif blocks, creates compute pipelines with the overridable constants
// (WG_SIZE) and runs kernels on Float32Arrays. Works in pages and workers. Used by the kernel tests
// now and by the node's WebGPU backend later.
//
// The runner is split by job into sibling modules, all re-exported here so that importing runner.js gives the
// whole API: formats.js (weight formats), preprocess.js (WGSL templates), device.js (device limits, error
// scopes), batch.js (KernelBatch), llama-layers.js (a Llama layer's decode and prefill dispatches).

import { pickWorkgroupSize, resolveReduction, withErrorScope } from "./device.js";
import { preprocess } from "./preprocess.js";
import { KernelBatch } from "./batch.js";

export { FORMATS, formatId, rowBytes } from "./formats.js";
export { preprocess } from "./preprocess.js";
export { pickWorkgroupSize, subgroupsSupported } from "./device.js";
export { KernelBatch, SAMPLE_CAP } from "./batch.js";
export { encodeDecodeLayer, encodePrefillLayer } from "./llama-layers.js";

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
