// Earn Idle node: JS side of the WASM-SIMD engine (classic script; loaded by the node worker with importScripts).
// The Java engine (io.earnidle.node.engine.SimdLlama, compiled by TeaVM) orchestrates; this file gives it
//   - EarnIdleCpu.load(opts, url, progress) -> Promise<glue>: loads /kernels/simd/simd-kernels.js (threads when the
//     worker is cross-origin isolated, relaxed SIMD when validated) and streams the GGUF body chunk by chunk straight
//     into the kernel's linear memory (never a second copy), and
//   - the fallback row dequantizers (F16, BF16, Q4_1, Q4_K, Q6_K; also used for the embedding row) feeding the
//     f32 SIMD dot product; RoPE, residual add, attention and argmax forward to the kernel module.
"use strict";
(function () {
  const F = Math.fround;
  const h2fTab = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    h2fTab[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  const bfU = new Uint32Array(1), bfF = new Float32Array(bfU.buffer);
  const BLOCK = { 0: [1, 4], 1: [1, 2], 30: [1, 2], 2: [32, 18], 3: [32, 20], 8: [32, 34], 12: [256, 144], 14: [256, 210] };

  function rowBytes(type, n) {
    const b = BLOCK[type];
    if (!b) throw new Error("unsupported ggml type " + type);
    return (n / b[0]) * b[1];
  }

  // Writes n values of `type` at byte p of u8 (dv a DataView on the same buffer) to f[o..o+n), as Java's Dequant.
  function dequant(u8, dv, type, p, n, f, o) {
    switch (type) {
      case 0: for (let i = 0; i < n; i++) f[o + i] = dv.getFloat32(p + 4 * i, true); break;
      case 1: for (let i = 0; i < n; i++) f[o + i] = h2fTab[dv.getUint16(p + 2 * i, true)]; break;
      case 30: for (let i = 0; i < n; i++) { bfU[0] = dv.getUint16(p + 2 * i, true) << 16; f[o + i] = bfF[0]; } break;
      case 8:
        for (let b = 0; b < n / 32; b++) {
          const bp = p + 34 * b, d = h2fTab[dv.getUint16(bp, true)];
          for (let j = 0; j < 32; j++) f[o + 32 * b + j] = F(d * dv.getInt8(bp + 2 + j));
        }
        break;
      case 2:
        for (let b = 0; b < n / 32; b++) {
          const bp = p + 18 * b, d = h2fTab[dv.getUint16(bp, true)], ob = o + 32 * b;
          for (let j = 0; j < 16; j++) {
            const q = u8[bp + 2 + j];
            f[ob + j] = F(((q & 15) - 8) * d);
            f[ob + j + 16] = F(((q >> 4) - 8) * d);
          }
        }
        break;
      case 3:
        for (let b = 0; b < n / 32; b++) {
          const bp = p + 20 * b, d = h2fTab[dv.getUint16(bp, true)], m = h2fTab[dv.getUint16(bp + 2, true)], ob = o + 32 * b;
          for (let j = 0; j < 16; j++) {
            const q = u8[bp + 4 + j];
            f[ob + j] = F(F((q & 15) * d) + m);
            f[ob + j + 16] = F(F((q >> 4) * d) + m);
          }
        }
        break;
      case 12:
        for (let b = 0; b < n / 256; b++) q4k(u8, dv, p + 144 * b, f, o + 256 * b);
        break;
      case 14:
        for (let b = 0; b < n / 256; b++) q6k(u8, dv, p + 210 * b, f, o + 256 * b);
        break;
      default: throw new Error("unsupported ggml type " + type);
    }
  }

  function scaleK4(u8, sc, j) {
    if (j < 4) return [u8[sc + j] & 63, u8[sc + j + 4] & 63];
    const hi = u8[sc + j + 4];
    return [(hi & 15) | ((u8[sc + j - 4] >> 6) << 4), (hi >> 4) | ((u8[sc + j] >> 6) << 4)];
  }

  function q4k(u8, dv, bp, f, o) {
    const d = h2fTab[dv.getUint16(bp, true)], dmin = h2fTab[dv.getUint16(bp + 2, true)];
    for (let k = 0; k < 4; k++) {
      const [s0, m0] = scaleK4(u8, bp + 4, 2 * k), [s1, m1] = scaleK4(u8, bp + 4, 2 * k + 1);
      const d1 = F(d * s0), mm1 = F(dmin * m0), d2 = F(d * s1), mm2 = F(dmin * m1);
      const qb = bp + 16 + 32 * k, ob = o + 64 * k;
      for (let l = 0; l < 32; l++) {
        const q = u8[qb + l];
        f[ob + l] = F(F(d1 * (q & 15)) - mm1);
        f[ob + 32 + l] = F(F(d2 * (q >> 4)) - mm2);
      }
    }
  }

  function q6k(u8, dv, bp, f, o) {
    const d = h2fTab[dv.getUint16(bp + 208, true)];
    for (let half = 0; half < 2; half++) {
      const ql = bp + 64 * half, qh = bp + 128 + 32 * half, sc = bp + 192 + 8 * half, ob = o + 128 * half;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4, lo0 = u8[ql + l], lo1 = u8[ql + l + 32], h = u8[qh + l];
        const q1 = ((lo0 & 15) | ((h & 3) << 4)) - 32, q2 = ((lo1 & 15) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32, q4 = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
        f[ob + l] = F(F(d * dv.getInt8(sc + is)) * q1);
        f[ob + l + 32] = F(F(d * dv.getInt8(sc + is + 2)) * q2);
        f[ob + l + 64] = F(F(d * dv.getInt8(sc + is + 4)) * q3);
        f[ob + l + 96] = F(F(d * dv.getInt8(sc + is + 6)) * q4);
      }
    }
  }

  class Glue {
    constructor(k) {
      this.k = k;
      this.ex = k.exports;
      this.rowScratch = 0;
      this.rowScratchLen = 0;
      this.variant = "wasm-simd" + (k.relaxed ? "-relaxed" : "") + (k.threads > 1 ? "-mt" + k.threads : "");
    }
    // fresh views: the memory may grow (a non-shared buffer is then detached)
    f32() { return new Float32Array(this.k.memory.buffer); }
    u8() { return new Uint8Array(this.k.memory.buffer); }
    dv() { return new DataView(this.k.memory.buffer); }
    write(ptr, arr, n) { this.f32().set(n === arr.length ? arr : arr.subarray(0, n), ptr >> 2); }
    read(ptr, n) { return this.f32().slice(ptr >> 2, (ptr >> 2) + n); }
    dequantRow(type, w, row, cols, out) {
      dequant(this.u8(), this.dv(), type, w + row * rowBytes(type, cols), cols, this.f32(), out >> 2);
    }
    /** Reserves the fallback's row scratch (called once at load, before the KV cache is allocated). */
    reserveRowScratch(cols) {
      if (this.rowScratchLen < cols) {
        this.rowScratch = this.k.alloc(4 * cols);
        this.rowScratchLen = cols;
      }
    }
    matvecDequant(type, w, x, out, rows, cols) {
      if (this.rowScratchLen < cols) throw new Error("matvecDequant: row scratch of " + this.rowScratchLen + " < " + cols);
      const rb = rowBytes(type, cols), u8 = this.u8(), dv = this.dv(), f = this.f32(), s = this.rowScratch;
      for (let r = 0; r < rows; r++) {
        dequant(u8, dv, type, w + r * rb, cols, f, s >> 2);
        f[(out >> 2) + r] = this.ex.dot_f32(s, x, cols);
      }
    }
    // add, rope, attention and argmax run in the kernel module (one call each; attention splits heads over the
    // threads); the JS forms below are the references they equal bit for bit (jsRope, jsAttention, jsArgmax)
    add(y, x, n) { this.k.add(y, x, n); }
    rope(v, nHeads, headDim, cs) { this.k.rope(v, nHeads, headDim, cs); }
    attention(q, kc, vc, out, scores, nHead, nKv, hd, nPos, scale) {
      this.k.attention(q, kc, vc, out, scores, nHead, nKv, hd, nPos, scale);
    }
    argmax(ptr, n) { return this.k.argmax(ptr, n); }
    jsRope(v, nHeads, headDim, cs) {
      const f = this.f32(), half = headDim >> 1, c = cs >> 2;
      for (let h = 0; h < nHeads; h++) {
        const base = (v >> 2) + h * headDim;
        for (let i = 0; i < half; i++) {
          const cos = f[c + i], sin = f[c + half + i], a = f[base + 2 * i], b = f[base + 2 * i + 1];
          f[base + 2 * i] = F(F(a * cos) - F(b * sin));
          f[base + 2 * i + 1] = F(F(a * sin) + F(b * cos));
        }
      }
    }
    jsAttention(q, kc, vc, out, scores, nHead, nKv, hd, nPos, scale) {
      const group = nHead / nKv, stride = 4 * nKv * hd;
      for (let h = 0; h < nHead; h++) {
        const kvo = 4 * Math.floor(h / group) * hd;
        this.ex.attn_scores(q + 4 * h * hd, kc + kvo, scores, nPos, hd, stride, scale);
        this.ex.softmax(scores, nPos);
        this.ex.attn_values(scores, vc + kvo, out + 4 * h * hd, nPos, hd, stride);
      }
    }
    jsArgmax(ptr, n) {
      const f = this.f32(), o = ptr >> 2;
      let best = 0;
      for (let i = 1; i < n; i++) if (f[o + i] > f[o + best]) best = i;
      return best;
    }
  }

  /**
   * Loads the kernels and streams `url` into their memory. opts: {threads ("auto" | n), relaxed ("auto"|bool; when
   * absent, self.EarnIdleSimdRelaxed if a boolean, as the infer worker sets it), kernelsUrl}. progress(loaded, total) is called per chunk. Resolves to {glue, base, size}.
   */
  async function load(opts, url, progress) {
    const mod = await import(opts.kernelsUrl || new URL("../kernels/simd/simd-kernels.js", self.location.href).href);
    let threads = opts.threads === undefined || opts.threads === "auto"
      ? (mod.threadsAvailable() ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1) : Math.max(1, opts.threads | 0);
    if (threads > 1 && !mod.threadsAvailable()) threads = 1;
    const r = await fetch(url);
    if (!r.ok) throw new Error("model download failed: HTTP " + r.status);
    const total = Number(r.headers.get("Content-Length") || 0);
    const k = await mod.loadSimdKernels({
      threads,
      relaxed: opts.relaxed !== undefined ? opts.relaxed
        : typeof self.EarnIdleSimdRelaxed === "boolean" ? self.EarnIdleSimdRelaxed : "auto",
      initialBytes: (total || 16 * 2 ** 20) + 32 * 2 ** 20, maximumBytes: opts.maximumBytes || 2 ** 32 - 65536,
    });
    let base = total ? k.alloc(total) : k.alloc(0);
    let size = 0;
    const put = (value) => {
      if (!total || size + value.length > total) {
        if (total) throw new Error("model body longer than its Content-Length " + total);
        k.alloc(value.length, 1); // contiguous: nothing else allocates while streaming
      }
      k.u8().set(value, base + size);
      size += value.length;
      if (progress) progress(size, total || size);
    };
    // A BYOB reader fills one reused 4 MiB buffer: the default reader allocates a fresh chunk per read, and those
    // (~180 MB for a 700 MB model, measured) stay in the heap until a GC after the download.
    let byob = null;
    try { byob = r.body.getReader({ mode: "byob" }); } catch (e) { byob = null; }
    if (byob) {
      let buf = new ArrayBuffer(4 << 20);
      for (;;) {
        const { done, value } = await byob.read(new Uint8Array(buf));
        if (value) buf = value.buffer; // the buffer comes back (transferred) with the bytes read
        if (done) break;
        put(value);
      }
    } else {
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        put(value);
      }
    }
    if (total && size !== total) throw new Error("model body has " + size + " bytes, Content-Length " + total);
    const head = parseGgufHeader(k.u8().subarray(base, base + size));
    if (!head) throw new Error("truncated GGUF header");
    // the header (metadata + tokenizer) is copied out for the Java parser; tensor bytes stay in the kernel memory
    return { glue: new Glue(k), base, size, header: new Int8Array(k.u8().slice(base, base + head.dataOffset).buffer) };
  }

  const TYPE_SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

  /**
   * Minimal GGUF header walk (the Java GgufFile does the validation): {dataOffset, alignment, tensors: {name:
   * {ne, type, offset (absolute), bytes}}} from the first bytes of a file, or null when `u8` is too short.
   */
  function parseGgufHeader(u8) {
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    let p = 0;
    const need = (n) => { if (p + n > u8.byteLength) throw RangeError("short"); };
    const u32 = () => { need(4); const v = dv.getUint32(p, true); p += 4; return v; };
    const u64 = () => { need(8); const v = Number(dv.getBigUint64(p, true)); p += 8; return v; };
    const str = () => { const n = u64(); need(n); const s = new TextDecoder().decode(u8.slice(p, p + n)); p += n; return s; };
    const skip = (t) => {
      if (t === 8) { const n = u64(); need(n); p += n; }
      else if (t === 9) { const et = u32(), n = u64(); if (TYPE_SIZE[et]) { need(n * TYPE_SIZE[et]); p += n * TYPE_SIZE[et]; } else for (let i = 0; i < n; i++) skip(et); }
      else if (TYPE_SIZE[t]) { need(TYPE_SIZE[t]); p += TYPE_SIZE[t]; }
      else throw new Error("GGUF: bad metadata type " + t);
    };
    try {
      if (u32() !== 0x46554747) throw new Error("not a GGUF file");
      u32();
      const nt = u64(), nkv = u64();
      let alignment = 32;
      for (let i = 0; i < nkv; i++) {
        const key = str(), t = u32();
        if (key === "general.alignment" && t === 4) alignment = u32(); else skip(t);
      }
      const list = [];
      for (let i = 0; i < nt; i++) {
        const name = str(), nd = u32(), ne = [];
        for (let d = 0; d < nd; d++) ne.push(u64());
        const type = u32(), off = u64();
        list.push({ name, ne, type, off });
      }
      const dataOffset = Math.ceil(p / alignment) * alignment;
      const tensors = {};
      for (const t of list) {
        const n = t.ne.reduce((a, b) => a * b, 1);
        tensors[t.name] = { ne: t.ne, type: t.type, offset: dataOffset + t.off, bytes: rowBytes(t.type, n) };
      }
      return { dataOffset, alignment, tensors };
    } catch (e) {
      if (e instanceof RangeError) return null;
      throw e;
    }
  }

  self.EarnIdleCpu = { load, dequant, rowBytes, Glue, parseGgufHeader };
})();
