// Earn Idle node: WebGPU engine (ES module, imported by the node worker; needs cpu-glue.js loaded first for the
// GGUF header walk). Java (io.earnidle.node.browser.engine.WebGpuEngine) drives it token by token.
//
// Weights: the GGUF body is streamed through a 64 MiB staging window; each transformer layer's contiguous byte
// range (its 9 tensors) becomes ONE storage buffer, token_embd / output are split by rows into buffers no larger
// than the device's maxStorageBufferBindingSize (requested at the adapter's limit), output_norm and rope_freqs get
// small buffers. Nothing is kept on the CPU side but the header.
// A token is ONE command buffer and ONE submit: embed + 5 dispatches per layer (runner.encodeDecodeLayer) +
// output-norm-fused LM head (one dispatch per part) + argmax; greedy reads back 4 bytes (the token id); a step that
// needs logits (sampling, repetition penalty, --logits-out) reads back the vocab's f32 logits instead; prefill
// positions before the last read back nothing.
// Steps ahead (greedy decode): after a step or prefill whose output is the argmax, the engine submits up to
// STEPS_AHEAD next steps at once, each embedding the token id the step before it left in the GPU's argmax buffer, so
// the GPU never waits for the read-back, Java and the next submit; their 4-byte read-backs are collected in order.
// A call that continues the chain (output 1, the next position, the token the previous step gave) takes the step
// already in flight; any other call drops the steps ahead (their KV rows lie at later positions, and every position
// is written again by the real step before a later step reads it). The caller's hint (`more`: how many greedy steps
// may still follow) bounds them, so a run to max_tokens wastes none; a stop on EOS or a stop string wastes at most
// STEPS_AHEAD steps (counter steps_ahead_dropped).
// Sampling (output 3, settings from nextDraw()): sample.wgsl draws the token on the GPU with the Sampler's chain and
// the caller's uniform number; 4 bytes are read back. When the kept set is wider than the kernel's candidate buffer
// it answers 0xFFFFFFFF and the engine reads the (unpenalized) logits back instead, for the caller to sample.
// Batched prefill (prefill()): up to MAX_PREFILL tokens in ONE submit: embed + 7 dispatches per layer
// (runner.encodePrefillLayer: tiled mat-muls that read each weight once per 32-token tile, batched RoPE + KV append,
// causal attention) + the head on the last token. Not bit-identical to token-by-token steps (other summation
// orders): the kernel tests bound it at 1e-4 of the RMS against the double reference.
const STAGING = 64 * 2 ** 20;
const MAX_PREFILL = 64;
const STEPS_AHEAD = 2;

export async function createWebGpuEngine(opts) {
  const runnerMod = await import(opts.kernelsUrl || new URL("../kernels/runner.js", self.location.href).href);
  if (!self.navigator || !navigator.gpu) throw new Error("WebGPU is not available (navigator.gpu missing)");
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("WebGPU: no adapter");
  const al = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has("subgroups") ? ["subgroups"] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
      maxBufferSize: al.maxBufferSize,
      maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: al.maxStorageBuffersPerShaderStage,
    },
  });
  let lost = null;
  device.lost.then((i) => { lost = "WebGPU device lost: " + i.message; });
  const runner = await runnerMod.KernelRunner.create(device);
  const e = new WebGpuEngine(runnerMod, runner, device, adapter, opts);
  e.lostRef = () => lost;
  return e;
}

class WebGpuEngine {
  constructor(mod, runner, device, adapter, opts) {
    this.mod = mod;
    this.runner = runner;
    this.device = device;
    this.info = adapter.info || {};
    const lim = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxBinding = lim - 16;
    // row-split matrices (token_embd / output) use parts of at most this size (tests force splits with a small one)
    this.splitBytes = Math.min(this.maxBinding, opts.maxBindingBytes || lim);
    this.ahead = []; // steps submitted ahead: [{pos, result}], consecutive positions
    this.lastGreedy = null; // {pos, argmax} of the last greedy result handed to the caller
    this.counters = { dispatches_per_token: 0, dispatches_per_layer: 0, submits_per_token: 0,
      bytes_read_back_per_token: 0, weight_bytes_per_token: 0, lm_head_parts: 0, embed_parts: 0,
      max_storage_binding_bytes: device.limits.maxStorageBufferBindingSize, reduction: runner.reduction,
      prefill_max_batch: MAX_PREFILL, prefill_batches: 0, prefill_tokens: 0, prefill_dispatches_per_layer: 0,
      prefill_submits_per_batch: 0, prefill_bit_identical: 0, file_bytes: 0, sampled_on_device: 0, sample_fallbacks: 0,
      pipeline_warmup_ms: 0, pipelines_created_late: 0, steps_ahead: 0, steps_ahead_used: 0, steps_ahead_dropped: 0,
      adapter: [this.info.vendor, this.info.architecture, this.info.description].filter(Boolean).join(" "),
      tokens: 0, workgroup_sizes: "", prefill_weight_bytes_per_token: 0 };
    this.wgSizes = {};
    this.setStepsAhead(opts.stepsAhead ?? STEPS_AHEAD);
  }

  /** How many greedy steps may be submitted ahead (0: none, every step waits for the one before). */
  setStepsAhead(n) {
    if (!Number.isInteger(n) || n < 0 || n > 8) throw new Error(`steps ahead must be 0..8, got ${n}`);
    this.stepsAhead = n;
    this.counters.steps_ahead = n;
  }

  /** Streams the model; resolves to the header bytes (Int8Array) for the Java parser. */
  async load(url, progress) {
    const r = await fetch(url);
    if (!r.ok) throw new Error("model download failed: HTTP " + r.status);
    const total = Number(r.headers.get("Content-Length") || 0);
    const reader = r.body.getReader();
    let headBytes = new Uint8Array(0), head = null, pos = 0;
    let staging = new Uint8Array(STAGING), stagingStart = 0, fill = 0;
    const flush = () => {
      const end = stagingStart + fill;
      for (const b of this.buffers) {
        const s = Math.max(b.start, stagingStart), t = Math.min(b.end, end);
        if (t <= s) continue;
        const len = Math.ceil((t - s) / 4) * 4;
        this.device.queue.writeBuffer(b.buf, s - b.start, staging.buffer, s - stagingStart, len);
      }
      stagingStart = end;
      fill = 0;
      staging.fill(0);
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!head) {
        const grown = new Uint8Array(headBytes.length + value.length);
        grown.set(headBytes);
        grown.set(value, headBytes.length);
        headBytes = grown;
        head = self.EarnIdleCpu.parseGgufHeader(headBytes);
        if (!head) continue;
        this.#plan(head);
        // replay what was read so far through the staging window
        let off = 0;
        while (off < headBytes.length) {
          const n = Math.min(STAGING - fill, headBytes.length - off);
          staging.set(headBytes.subarray(off, off + n), fill);
          fill += n; off += n;
          if (fill === STAGING) flush();
        }
        pos = headBytes.length;
        headBytes = headBytes.slice(0, head.dataOffset);
      } else {
        let off = 0;
        while (off < value.length) {
          const n = Math.min(STAGING - fill, value.length - off);
          staging.set(value.subarray(off, off + n), fill);
          fill += n; off += n;
          if (fill === STAGING) flush();
        }
        pos += value.length;
      }
      if (progress) progress(pos, total || pos);
    }
    if (!head) throw new Error("truncated GGUF header");
    flush();
    staging = null;
    this.fileSize = pos;
    this.counters.file_bytes = pos;
    if (total && pos !== total) throw new Error("model body has " + pos + " bytes, Content-Length " + total);
    await this.device.queue.onSubmittedWorkDone();
    return new Int8Array(headBytes.buffer, 0, head.dataOffset);
  }

  #plan(head) {
    const T = head.tensors;
    const get = (n) => { const t = T[n]; if (!t) throw new Error("missing tensor " + n); return t; };
    const fmt = (t, name) => {
      if (!Object.values(this.mod.FORMATS).includes(t.type)) throw new Error(`WebGPU: tensor ${name} has ggml type ${t.type} without a WGSL kernel`);
      return t.type;
    };
    this.buffers = [];
    const range = (start, end, label) => {
      const size = Math.ceil((end - start) / 4) * 4 + 4;
      if (size > this.maxBinding + 16) throw new Error(`WebGPU: ${label} needs a ${size}-byte binding, the device allows ${this.maxBinding + 16}`);
      const buf = this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      const b = { start, end, buf };
      this.buffers.push(b);
      return b;
    };
    // row-split matrices (token_embd, output)
    const parts = (name) => {
      const t = get(name), cols = t.ne[0], rows = t.ne[1], rb = self.EarnIdleCpu.rowBytes(fmt(t, name), cols);
      const perPart = Math.max(1, Math.floor(this.splitBytes / rb));
      const out = [];
      for (let r0 = 0; r0 < rows; r0 += perPart) {
        const n = Math.min(perPart, rows - r0);
        const b = range(t.offset + r0 * rb, t.offset + (r0 + n) * rb, `${name}[${r0}+${n}]`);
        out.push({ buf: b.buf, firstRow: r0, rows: n, format: t.type });
      }
      return { parts: out, cols, rows, rowBytes: rb, bytes: t.bytes };
    };
    this.embd = parts("token_embd.weight");
    this.output = T["output.weight"] ? parts("output.weight") : this.embd;
    const norm = get("output_norm.weight");
    if (norm.type !== 0) throw new Error("WebGPU: output_norm must be F32");
    this.outNorm = range(norm.offset, norm.offset + norm.bytes, "output_norm").buf;
    const rf = T["rope_freqs.weight"];
    this.freqs = rf ? range(rf.offset, rf.offset + rf.bytes, "rope_freqs").buf : null;
    this.layers = [];
    const names = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"];
    let layerWeightBytes = 0;
    for (let l = 0; T[`blk.${l}.attn_q.weight`]; l++) {
      const ts = names.map((n) => get(`blk.${l}.${n}.weight`));
      const start = Math.min(...ts.map((t) => t.offset)), end = Math.max(...ts.map((t) => t.offset + t.bytes));
      const b = range(start, end, `blk.${l}`);
      const at = (i) => ({ offset: ts[i].offset - start, format: fmt(ts[i], names[i]) });
      if (ts[0].type !== 0 || ts[5].type !== 0) throw new Error("WebGPU: norm weights must be F32");
      this.layers.push({ w: b.buf, attnNorm: ts[0].offset - start, ffnNorm: ts[5].offset - start,
        wq: at(1), wk: at(2), wv: at(3), wo: at(4), wGate: at(6), wUp: at(7), wDown: at(8) });
      layerWeightBytes += ts.reduce((a, t) => a + t.bytes, 0);
    }
    this.layerWeightBytes = layerWeightBytes;
    this.counters.lm_head_parts = this.output.parts.length;
    this.counters.embed_parts = this.embd.parts.length;
  }

  /** hp: {nEmbd, nHead, nKvHead, headDim, nFf, eps, freqBase, vocab}. */
  init(hp) {
    this.hp = hp;
    if (this.layers.length === 0) throw new Error("WebGPU: no layers");
    const f = (n) => this.runner.createBuffer(4 * n);
    const qDim = hp.nHead * hp.headDim, kvDim = hp.nKvHead * hp.headDim;
    this.x = f(hp.nEmbd);
    this.qkv = f(qDim + 2 * kvDim);
    this.attn = f(qDim);
    this.ffn = f(hp.nFf);
    this.logits = f(hp.vocab);
    this.argmaxOut = f(4);
    this.sampleScratch = f(hp.vocab);
    this.penIds = this.runner.createBuffer(16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.ids = this.runner.createBuffer(16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.capacity = 0;
    // compile every pipeline the model needs now, all at once, instead of one by one inside the first prefill and
    // the first decode step (a ~0.4 s stall of the first generated token on a real GPU); the first prefill or
    // step waits for it. A failure here is left to that step, which meets it again and reports it.
    this.warming = this.#warm().catch(() => {});
  }

  /**
   * Records (never submits) a decode step and a 2-token prefill through every layer, the LM head, argmax and the
   * sampler into throw-away batches, concurrently, so the runner creates all their pipelines in parallel. Buffers
   * bound here are placeholders: nothing recorded is ever encoded or run.
   */
  async #warm() {
    const t0 = performance.now(), hp = this.hp, pf = this.#prefillBuffers(), x = this.x;
    const jobs = [];
    for (const layer of this.layers) {
      jobs.push(this.mod.encodeDecodeLayer(this.runner.batch(), layer, hp, { x, qkv: this.qkv, attn: this.attn,
        ffn: this.ffn, kCache: x, vCache: x, cacheOff: 0, pos: 0, freqs: this.freqs || undefined, freqsOffset: 0 }));
      jobs.push(this.mod.encodePrefillLayer(this.runner.batch(), layer, hp, { x: pf.x, qkv: pf.qkv, attn: pf.attn,
        gu: pf.gu, ffn: pf.ffn, kCache: x, vCache: x, cacheOff: 0, pos: 0, nTok: 2, freqs: this.freqs || undefined,
        freqsOffset: 0 }));
    }
    for (const p of this.embd.parts) {
      jobs.push(this.runner.batch().embed({ w: p.buf, ids: this.ids, y: x, format: p.format, n: hp.nEmbd, nTok: 1 }));
    }
    for (const p of this.output.parts) {
      jobs.push(this.runner.batch().matvec({ w: p.buf, x, y: this.logits, inDim: hp.nEmbd,
        segments: [{ format: p.format, offset: 0, rows: p.rows, out: p.firstRow }],
        norm: { weight: this.outNorm, offset: 0, eps: hp.eps } }));
    }
    jobs.push(this.runner.batch().argmax({ logits: this.logits, out: this.argmaxOut, n: hp.vocab }));
    jobs.push(this.runner.batch().sample({ logits: this.logits, penIds: this.penIds, nPen: 0, scratch: this.sampleScratch,
      out: this.argmaxOut, n: hp.vocab, temperature: 1, topK: 0, topP: 1, minP: 0, penalty: 1, u: 0 }));
    await Promise.all(jobs);
    this.counters.pipeline_warmup_ms = Math.round(performance.now() - t0);
    this.pipelinesAtWarm = this.runner.pipelines.size;
  }

  async #warmed() {
    if (this.warming) {
      await this.warming;
      this.warming = null;
    }
  }

  begin(positions) {
    if (positions <= this.capacity) return;
    const kvDim = this.hp.nKvHead * this.hp.headDim;
    this.#dropAhead(); // recorded against the old caches
    this.lastGreedy = null;
    (this.kCache || []).forEach((b) => b.destroy());
    (this.vCache || []).forEach((b) => b.destroy());
    this.kCache = this.layers.map(() => this.runner.createBuffer(4 * kvDim * positions));
    this.vCache = this.layers.map(() => this.runner.createBuffer(4 * kvDim * positions));
    this.capacity = positions;
  }

  /**
   * Settings of the next output-3 step: {temperature, topK, topP, minP, penalty, u, penIds (distinct ids to
   * penalize: Int32Array)}.
   */
  nextDraw(d) {
    const n = d.penIds ? d.penIds.length : 0;
    if (n > 0) {
      if (this.penIds.size < 4 * n) {
        this.penIds.destroy();
        this.penIds = this.runner.createBuffer(4 * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      }
      this.device.queue.writeBuffer(this.penIds, 0, Uint32Array.from(d.penIds));
    }
    this.draw = { ...d, nPen: n };
  }

  #part(token) {
    const part = this.embd.parts.find((p) => token >= p.firstRow && token < p.firstRow + p.rows);
    if (!part) throw new Error(`token id ${token} outside the vocabulary`);
    return part;
  }

  /** Scratch rows of the batched prefill (allocated on the first batch). */
  #prefillBuffers() {
    if (this.pf) return this.pf;
    const hp = this.hp, B = MAX_PREFILL, f = (n) => this.runner.createBuffer(4 * B * n);
    const qDim = hp.nHead * hp.headDim, kvDim = hp.nKvHead * hp.headDim;
    this.pf = { x: f(hp.nEmbd), qkv: f(qDim + 2 * kvDim), attn: f(qDim), gu: f(2 * hp.nFf), ffn: f(hp.nFf),
      ids: this.runner.createBuffer(4 * B, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST) };
    return this.pf;
  }

  /**
   * Runs tokens[0 .. count) at positions pos .. pos+count-1 in one submit; output (as step) for the last token.
   * more: greedy steps that may follow (see step). Resolves {argmax, logits}.
   */
  async prefill(tokens, count, pos, output, more = 0) {
    await this.#warmed();
    this.#checkLost();
    if (count < 1 || count > MAX_PREFILL) throw new Error(`prefill batch of ${count} tokens (1..${MAX_PREFILL})`);
    if (pos + count > this.capacity) throw new Error(`positions ${pos}..${pos + count - 1} outside the KV cache of ${this.capacity}`);
    this.#dropAhead();
    this.lastGreedy = null;
    const hp = this.hp, pf = this.#prefillBuffers();
    const parts = Array.from({ length: count }, (_, t) => this.#part(tokens[t]));
    const batch = this.runner.batch();
    for (let t0 = 0; t0 < count;) { // one embed per run of tokens in the same row-split part
      let t1 = t0 + 1;
      while (t1 < count && parts[t1] === parts[t0]) t1++;
      await batch.embed({ w: parts[t0].buf, ids: pf.ids, y: pf.x, format: parts[t0].format, n: hp.nEmbd,
        nTok: t1 - t0, idOff: t0, yTok: t0 });
      t0 = t1;
    }
    const d0 = batch.dispatches;
    for (let l = 0; l < this.layers.length; l++) {
      await this.mod.encodePrefillLayer(batch, this.layers[l], hp, {
        x: pf.x, qkv: pf.qkv, attn: pf.attn, gu: pf.gu, ffn: pf.ffn,
        kCache: this.kCache[l], vCache: this.vCache[l], cacheOff: 0, pos, nTok: count,
        freqs: this.freqs || undefined, freqsOffset: 0,
      });
    }
    const perLayer = (batch.dispatches - d0) / this.layers.length;
    if (output !== 0) batch.copy(pf.x, 4 * (count - 1) * hp.nEmbd, this.x, 0, 4 * hp.nEmbd);
    const head = await this.#head(batch, output);
    this.device.queue.writeBuffer(pf.ids, 0, Uint32Array.from({ length: count }, (_, t) => tokens[t] - parts[t].firstRow));
    const result = this.#submit(batch, output, head, this.layerWeightBytes + count * this.embd.rowBytes);
    if (output === 1) await this.#runAhead(pos + count - 1, more);
    const r = await this.#settle(result);
    Object.assign(this.counters, { prefill_batches: this.counters.prefill_batches + 1,
      prefill_tokens: this.counters.prefill_tokens + count, prefill_dispatches_per_layer: perLayer,
      // layer weights are read once per 32-token tile of the mat-muls (plus the embedding rows)
      prefill_weight_bytes_per_token: Math.round((Math.ceil(count / 32) * this.layerWeightBytes + count * this.embd.rowBytes) / count),
      prefill_submits_per_batch: r.submits, tokens: this.counters.tokens + (output !== 0 ? 1 : 0) });
    if (output === 1) this.lastGreedy = { pos: pos + count - 1, argmax: r.out.argmax };
    return r.out;
  }

  /**
   * output: 0 none, 1 argmax (4-byte read-back), 2 logits, 3 sample. more (output 1): how many further greedy steps
   * may follow this one, each fed the argmax of the one before; up to STEPS_AHEAD of them are submitted now.
   * Resolves {argmax, logits}.
   */
  async step(token, pos, output, more = 0) {
    await this.#warmed();
    this.#checkLost();
    if (pos >= this.capacity) throw new Error(`position ${pos} outside the KV cache of ${this.capacity}`);
    let s;
    const g = this.lastGreedy, next = this.ahead[0];
    if (output === 1 && next && next.pos === pos && g && g.pos === pos - 1 && g.argmax === token) {
      s = this.ahead.shift(); // already in flight, fed this very token by the GPU
      this.counters.steps_ahead_used++;
    } else {
      this.#dropAhead();
      const part = this.#part(token);
      s = await this.#issueStep(pos, output, part, token - part.firstRow);
    }
    this.lastGreedy = null;
    if (output === 1) await this.#runAhead(pos, more);
    const r = await this.#settle(s.result);
    if (output !== 0) {
      Object.assign(this.counters, { dispatches_per_token: r.dispatches, dispatches_per_layer: r.perLayer,
        submits_per_token: r.submits, bytes_read_back_per_token: r.readBytes, weight_bytes_per_token: r.weightBytes,
        tokens: this.counters.tokens + 1 });
    }
    if (output === 1) this.lastGreedy = { pos, argmax: r.out.argmax };
    return r.out;
  }

  #checkLost() {
    const lost = this.lostRef && this.lostRef();
    if (lost) throw new Error(lost);
  }

  /** A result the caller waits for; a failed one also ends the chain ahead (it ran after, on the same state). */
  async #settle(result) {
    try {
      return await result;
    } catch (e) {
      this.#dropAhead();
      this.lastGreedy = null;
      throw e;
    }
  }

  /**
   * Records one decode step at pos and submits it; part/id: the embedding's row-split part and row, or part null
   * to embed the token id the previous submit left in argmaxOut (one dispatch per part, each skipping ids outside
   * it). Returns {pos, result} once the submit is issued; result resolves as #submit's.
   */
  async #issueStep(pos, output, part, id) {
    const hp = this.hp, batch = this.runner.batch();
    if (part) {
      await batch.embed({ w: part.buf, ids: this.ids, y: this.x, format: part.format, n: hp.nEmbd, nTok: 1 });
    } else {
      for (const p of this.embd.parts) {
        await batch.embed({ w: p.buf, ids: this.argmaxOut, y: this.x, format: p.format, n: hp.nEmbd, nTok: 1,
          rowBase: p.firstRow, rows: p.rows });
      }
    }
    const d0 = batch.dispatches;
    for (let l = 0; l < this.layers.length; l++) {
      await this.mod.encodeDecodeLayer(batch, this.layers[l], hp, {
        x: this.x, qkv: this.qkv, attn: this.attn, ffn: this.ffn, kCache: this.kCache[l], vCache: this.vCache[l],
        cacheOff: 0, pos, freqs: this.freqs || undefined, freqsOffset: 0,
      });
    }
    const perLayer = (batch.dispatches - d0) / this.layers.length;
    const head = await this.#head(batch, output);
    // written (queue-ordered) right before its submit: a step still in flight read its own id already
    if (part) this.device.queue.writeBuffer(this.ids, 0, new Uint32Array([id, 0, 0, 0]));
    const result = this.#submit(batch, output, head, this.layerWeightBytes + this.embd.rowBytes)
      .then((r) => ({ ...r, perLayer }));
    result.catch(() => {}); // awaited by whoever takes the step; a dropped one's failure is nobody's
    return { pos, result };
  }

  /**
   * Submits greedy steps ahead of the one at pos (the latest submit, or the last of this.ahead) until this.ahead
   * holds positions up to pos + min(stepsAhead, more), within the KV cache.
   */
  async #runAhead(pos, more) {
    const until = Math.min(pos + Math.min(this.stepsAhead, Math.max(0, more)), this.capacity - 1);
    for (let p = this.ahead.length ? this.ahead[this.ahead.length - 1].pos + 1 : pos + 1; p <= until; p++) {
      this.ahead.push(await this.#issueStep(p, 1, null, 0));
    }
  }

  /** Forgets the steps ahead; they still run on the GPU (counter steps_ahead_dropped). */
  #dropAhead() {
    if (this.ahead.length) this.counters.steps_ahead_dropped += this.ahead.length;
    this.ahead = [];
  }

  /** Records the head when output != 0: output norm + LM head on this.x, then argmax, sample or the logits. */
  async #head(batch, output) {
    const hp = this.hp;
    let argIdx = -1, logIdx = -1;
    if (output !== 0) {
      for (const p of this.output.parts) {
        await batch.matvec({ w: p.buf, x: this.x, y: this.logits, inDim: hp.nEmbd,
          segments: [{ format: p.format, offset: 0, rows: p.rows, out: p.firstRow }],
          norm: { weight: this.outNorm, offset: 0, eps: hp.eps } });
      }
      if (output === 1) {
        await batch.argmax({ logits: this.logits, out: this.argmaxOut, n: hp.vocab });
        argIdx = batch.read(this.argmaxOut, 0, 4);
      } else if (output === 3) {
        const d = this.draw;
        if (!d) throw new Error("sampling step without nextDraw settings");
        this.draw = null;
        await batch.sample({ logits: this.logits, penIds: this.penIds, nPen: d.nPen, scratch: this.sampleScratch,
          out: this.argmaxOut, n: hp.vocab, temperature: d.temperature, topK: d.topK, topP: d.topP, minP: d.minP,
          penalty: d.penalty, u: d.u });
        argIdx = batch.read(this.argmaxOut, 0, 4);
      } else {
        logIdx = batch.read(this.logits, 0, 4 * hp.vocab);
      }
    }
    return { argIdx, logIdx };
  }

  /**
   * Submits the recorded batch; the submit is issued before this returns (batch.submit runs synchronously up to
   * queue.submit), so calls issue in call order. Resolves {dispatches, submits, readBytes, weightBytes, out}.
   */
  async #submit(batch, output, head, weightBytes) {
    const hp = this.hp;
    if (output !== 0) weightBytes += this.output.bytes;
    const r = await batch.submit();
    // pipelines the warm-up did not make (0 unless a kernel variant was missed there)
    if (this.pipelinesAtWarm !== undefined) this.counters.pipelines_created_late = this.runner.pipelines.size - this.pipelinesAtWarm;
    Object.assign(this.wgSizes, r.workgroupSizes);
    this.counters.workgroup_sizes = Object.keys(this.wgSizes).sort().map((k) => `${k}=${this.wgSizes[k]}`).join(" ");
    const res = { dispatches: r.dispatches, submits: r.submits, readBytes: r.readBytes, weightBytes, out: {
      argmax: head.argIdx >= 0 ? new Uint32Array(r.reads[head.argIdx])[0] : -1,
      logits: head.logIdx >= 0 ? new Float32Array(r.reads[head.logIdx]) : null,
    } };
    if (output === 3) {
      if (res.out.argmax === 0xFFFFFFFF) { // kept set wider than the GPU's candidates: the caller samples the logits
        const fb = this.runner.batch();
        const i = fb.read(this.logits, 0, 4 * hp.vocab);
        const f = await fb.submit();
        res.out = { argmax: -1, logits: new Float32Array(f.reads[i]) };
        res.submits += f.submits;
        res.readBytes += f.readBytes;
        this.counters.sample_fallbacks++;
      } else {
        this.counters.sampled_on_device++;
      }
    }
    return res;
  }

  close() {
    this.#dropAhead();
    (this.buffers || []).forEach((b) => b.buf.destroy());
    this.device.destroy();
  }
}
