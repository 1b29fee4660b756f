// Small ES-module runner for the WGSL kernels in this folder.
//
// Given a GPUDevice it loads the kernel templates (relative to this module's URL), preprocesses the
// //#if NAME / //#else / //#endif blocks, creates compute pipelines with the overridable constants
// (WG_SIZE) and runs kernels on Float32Arrays. Works in pages and workers. Used by the kernel tests
// now and by the node's WebGPU backend later.

const KERNEL_FILES = {
  matvec_f32: "matvec_f32.wgsl",
  rmsnorm_f32: "rmsnorm_f32.wgsl",
};

/** Applies //#if NAME, //#ifnot NAME, //#else, //#endif (nestable, one directive per line). */
export function preprocess(source, defines = {}) {
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
export function pickWorkgroupSize(device, rowLength = Infinity) {
  const l = device.limits;
  let cap = Math.min(
    256,
    l.maxComputeInvocationsPerWorkgroup,
    l.maxComputeWorkgroupSizeX,
    Math.floor((l.maxComputeWorkgroupStorageSize - 16) / 4),
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
  const oom = await device.popErrorScope();
  const val = await device.popErrorScope();
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

  /** Compute pipeline for a kernel template and workgroup size (cached). */
  async pipeline(name, workgroupSize) {
    if (!Number.isInteger(workgroupSize) || workgroupSize < 1 || (workgroupSize & (workgroupSize - 1)) !== 0) {
      throw new Error(`workgroup size must be a power of two, got ${workgroupSize}`);
    }
    const key = `${name}/${this.reduction}/${workgroupSize}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.#createPipeline(name, workgroupSize, key);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  async #createPipeline(name, workgroupSize, key) {
    const src = this.sources[name];
    if (src === undefined) throw new Error(`unknown kernel ${name}`);
    const code = preprocess(src, { SUBGROUPS: this.reduction === "subgroup" });
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
        compute: { module, entryPoint: "main", constants: { WG_SIZE: workgroupSize } },
      });
    });
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
