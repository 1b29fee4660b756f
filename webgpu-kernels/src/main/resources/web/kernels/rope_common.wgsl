// Shared by attention.wgsl and rope_kv.wgsl (included with `//#include rope_common`; not a kernel).
//
// Tensors: the projections of token t live in `qkv` at q_off + t*q_stride (+ h*head_dim for head h),
// k_off + t*q_stride and v_off + t*q_stride (the K and V parts of a fused Q|K|V output, or three
// separate regions with the same row stride). The KV cache of a layer is two buffers of rows
// [n_ctx][n_kv_head * head_dim] (kv_stride floats per position), starting at element cache_off.
// The includer declares `params: AttnParams` and `freqs: array<f32>` (rope_freqs factors, ggml "rope_freqs.weight"; bind any
// buffer when has_freqs == 0).

struct AttnParams {
  head_dim: u32,
  n_head: u32,
  n_kv_head: u32,
  n_q: u32,        // query tokens in this dispatch
  pos0: u32,       // position of token 0; token t is at pos0 + t
  q_off: u32,
  k_off: u32,
  v_off: u32,
  q_stride: u32,   // floats between consecutive tokens in qkv
  kv_stride: u32,  // floats between consecutive positions in the caches
  out_stride: u32, // floats between consecutive tokens in out (attention only)
  kq_scale: f32,   // usually 1/sqrt(head_dim)
  freq_base: f32,
  has_freqs: u32,
  cache_off: u32,
  freq_off: u32,   // element offset of the rope_freqs factors in freqs
}

// (cos, sin) of x to ~1 ulp: Cody-Waite reduction by pi/2 and the Cephes sinf/cosf polynomials.
// WGSL's cos/sin only promise an absolute error of 2^-11 (and SwiftShader is about that coarse),
// which is visible in the attention scores; RoPE angles need better.
fn sincos_acc(x: f32) -> vec2<f32> {
  let q = round(x * 0.6366197723675814);
  let r = (x - q * 1.5707963705062866) + q * 4.371139000186241e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (i32(q) & 3) {
    case 0: { return vec2<f32>(c, s); }
    case 1: { return vec2<f32>(-s, c); }
    case 2: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// (cos, sin) of the RoPE angle of pair i (elements 2i, 2i+1) at position pos, llama.cpp "normal"
// (adjacent-pair) mode: theta = pos * base^(-2i/d) / freq_factor[i].
fn rope_cs(pos: u32, i: u32) -> vec2<f32> {
  var theta = f32(pos) * exp2(-2.0 * f32(i) / f32(params.head_dim) * log2(params.freq_base));
  if (params.has_freqs != 0u) {
    theta = theta / freqs[params.freq_off + i];
  }
  return sincos_acc(theta);
}

fn rotate(a: f32, b: f32, cs: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a * cs.x - b * cs.y, a * cs.y + b * cs.x);
}
