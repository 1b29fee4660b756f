// One Llama layer recorded into a KernelBatch: the decode step and the batched prefill (runner.js re-exports
// these).

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
