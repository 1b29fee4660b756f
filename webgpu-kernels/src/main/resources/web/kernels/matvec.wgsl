// Decode mat-vec over raw GGUF weights: y = W · x, one template for every weight format
// (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K; block layouts of ggml-common.h, decoded in the shader).
//
// One dispatch can cover up to three weight matrices ("segments") that live in the same weight
// buffer W (e.g. a layer's Q, K and V, uploaded as that layer's GGUF byte range): segment s starts
// at byte seg_off[s], has seg_rows[s] rows of in_dim elements in format FMT<s>, and writes its
// results at y[seg_out[s] + row]. Optional fusions (batch.js defines):
//   NORM  — x is RMS-normalised on the fly: the workgroup reduces sum(x^2) alongside the dot
//           products and the weights see x[k] * nw[k]; the result is scaled by 1/rms at the end
//           (fused RMSNorm + mat-vec; no normalised copy of x is ever written).
//   ADD   — y[out + row] += W·x (residual add fused into the output projection).
//   GLU   — segments 0 (gate) and 1 (up) have the same rows and the same workgroup computes both:
//           y[out0 + row] = silu(gate) * up (SwiGLU fused into the FFN up-projection).
//
// Work split (ggml-webgpu style): a row is cut into "units" (1 element for F32/F16, 8 for the
// 32-element blocks = 4 units per block, 16 for the 256-element K-quant super-blocks = 16 units
// per block); invocations stride over units, each workgroup owns ROWS consecutive rows of one
// segment (each unit's x values are loaded once and used for all ROWS rows), then the per-invocation
// partial sums are reduced with subgroupAdd (SUBGROUPS) or a shared-memory tree.
//
// Bindings (group 0): 0 = W (u32 bytes), 1 = x, 2 = nw (NORM only), 3 = y, 4 = params.
// Dispatch: 1-D/2-D grid of sum_s ceil(seg_rows[s] / ROWS) workgroups (GLU: ceil(rows0 / ROWS)).

//#if SUBGROUPS
enable subgroups;
//#endif

//#include quant_common

struct Params {
  in_dim: u32,
  eps: f32,
  n_seg: u32,
  nw_off: u32, // element offset of the norm weight in nw (NORM)
  seg_off: vec4<u32>,
  seg_rows: vec4<u32>,
  seg_out: vec4<u32>,
}

override WG_SIZE: u32 = 64u;
const ROWS: u32 = {{ROWS}}u;
const FMT0: u32 = {{FMT0}}u;
const FMT1: u32 = {{FMT1}}u;
const FMT2: u32 = {{FMT2}}u;
//#if GLU
const NACC: u32 = 2u * ROWS;
//#else
const NACC: u32 = ROWS;
//#endif
// One more reduced value: sum(x^2) for NORM (zero otherwise).
const NRED: u32 = NACC + 1u;

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
//#if NORM
@group(0) @binding(2) var<storage, read> nw: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> red: array<f32, WG_SIZE * NRED>;
var<workgroup> tot: array<f32, NRED>;

fn xv(k: u32) -> f32 {
//#if NORM
  return x[k] * nw[params.nw_off + k];
//#else
  return x[k];
//#endif
}

fn units_per_block(fmt: u32) -> u32 {
  switch fmt {
    case FMT_F32, FMT_F16: { return 1u; }
    case FMT_Q4_K, FMT_Q6_K: { return 16u; }
    default: { return 4u; }
  }
}

// The x values one unit multiplies, as 4 vec4s (a unit uses 1, 8 or 16 of them): loaded once per unit and reused
// for all ROWS rows of the workgroup, instead of once per row (x loads outnumbered the weight bytes ~8 to 1 for the
// 4-bit formats, and large GPUs were bound by them).
struct Xu {
  a: vec4<f32>,
  b: vec4<f32>,
  c: vec4<f32>,
  d: vec4<f32>,
}

fn x4(k: u32) -> vec4<f32> {
  return vec4<f32>(xv(k), xv(k + 1u), xv(k + 2u), xv(k + 3u));
}

fn unit_x(fmt: u32, u: u32) -> Xu {
  let z = vec4<f32>(0.0);
  switch fmt {
    case FMT_F32, FMT_F16: {
      return Xu(vec4<f32>(xv(u), 0.0, 0.0, 0.0), z, z, z);
    }
    case FMT_Q4_0, FMT_Q4_1: { // Q4_0 / Q4_1: elements 4t..4t+3 (low nibbles) and 16+4t.. (high nibbles) of block u/4
      let k0 = (u >> 2u) * 32u + 4u * (u & 3u);
      return Xu(x4(k0), x4(k0 + 16u), z, z);
    }
    case FMT_Q8_0: { // Q8_0: elements 8t..8t+7
      let k0 = (u >> 2u) * 32u + 8u * (u & 3u);
      return Xu(x4(k0), x4(k0 + 4u), z, z);
    }
    case FMT_Q4_K: { // Q4_K: sub-block pair p = (u/4)%4, 8 bytes from 8c: elements k0.., k0+4.., k0+32.., k0+36..
      let k0 = (u >> 4u) * 256u + 64u * ((u >> 2u) & 3u) + 8u * (u & 3u);
      return Xu(x4(k0), x4(k0 + 4u), x4(k0 + 32u), x4(k0 + 36u));
    }
    case FMT_Q6_K, default: { // half h = (u/8)%2, l = 4(u%8): the four quarters' elements
      let k0 = (u >> 4u) * 256u + 128u * ((u >> 3u) & 1u) + 4u * (u & 7u);
      return Xu(x4(k0), x4(k0 + 32u), x4(k0 + 64u), x4(k0 + 96u));
    }
  }
}

// the four bytes of a little-endian word; their low and high nibbles; as signed bytes
fn bytes4(q: u32) -> vec4<u32> {
  return vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u) & vec4<u32>(0xFFu);
}

fn nib_lo(q: u32) -> vec4<f32> {
  return vec4<f32>(bytes4(q) & vec4<u32>(0xFu));
}

fn nib_hi(q: u32) -> vec4<f32> {
  return vec4<f32>(bytes4(q) >> vec4<u32>(4u));
}

fn sbytes4(q: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(q << 24u, q << 16u, q << 8u, q)) >> vec4<u32>(24u));
}

fn hsum(v: vec4<f32>) -> f32 {
  return dot(v, vec4<f32>(1.0));
}

// Partial dot product of unit `u` of the row whose bytes start at `row` with the unit's x values X.
fn dot_unit(fmt: u32, row: u32, u: u32, X: Xu) -> f32 {
  switch fmt {
    case FMT_F32: {
      return bitcast<f32>(ld_u32(row + 4u * u)) * X.a.x;
    }
    case FMT_F16: {
      return ld_f16(row + 2u * u) * X.a.x;
    }
    case FMT_Q4_0: { // Q4_0: unit t covers bytes qs[4t..4t+3] -> elements 4t+i (low), 16+4t+i (high)
      let bb = row + (u >> 2u) * 18u;
      let q = ld_u32(bb + 2u + 4u * (u & 3u));
      return (dot(nib_lo(q) - 8.0, X.a) + dot(nib_hi(q) - 8.0, X.b)) * ld_f16(bb);
    }
    case FMT_Q4_1: { // Q4_1
      let bb = row + (u >> 2u) * 20u;
      let q = ld_u32(bb + 4u + 4u * (u & 3u));
      return (dot(nib_lo(q), X.a) + dot(nib_hi(q), X.b)) * ld_f16(bb) + hsum(X.a + X.b) * ld_f16(bb + 2u);
    }
    case FMT_Q8_0: { // Q8_0: unit t covers qs[8t..8t+7]
      let bb = row + (u >> 2u) * 34u;
      let t = u & 3u;
      return (dot(sbytes4(ld_u32(bb + 2u + 8u * t)), X.a) + dot(sbytes4(ld_u32(bb + 6u + 8u * t)), X.b)) * ld_f16(bb);
    }
    case FMT_Q4_K: { // Q4_K: unit u -> sub-block pair p = u/4, qs bytes [32p + 8c, +8), c = u%4
      let p = (u >> 2u) & 3u;
      let bb = row + (u >> 4u) * 144u;
      let o = bb + 16u + 32u * p + 8u * (u & 3u);
      let qa = ld_u32(o);
      let qb = ld_u32(o + 4u);
      let slo = dot(nib_lo(qa), X.a) + dot(nib_lo(qb), X.b);
      let shi = dot(nib_hi(qa), X.c) + dot(nib_hi(qb), X.d);
      let sm0 = q4k_scale_min(bb + 4u, 2u * p);
      let sm1 = q4k_scale_min(bb + 4u, 2u * p + 1u);
      return ld_f16(bb) * (sm0.x * slo + sm1.x * shi) - ld_f16(bb + 2u) * (sm0.y * hsum(X.a + X.b) + sm1.y * hsum(X.c + X.d));
    }
    case FMT_Q6_K, default: { // unit u -> half h = u/8, l = 4*(u%8) .. +3, all four quarters
      let h = (u >> 3u) & 1u;
      let v = u & 7u;
      let bb = row + (u >> 4u) * 210u;
      let a = bytes4(ld_u32(bb + 64u * h + 4u * v));
      let e = bytes4(ld_u32(bb + 64u * h + 32u + 4u * v));
      let hh = bytes4(ld_u32(bb + 128u + 32u * h + 4u * v));
      let m4 = vec4<u32>(0xFu);
      let m2 = vec4<u32>(3u);
      let s0 = dot(vec4<f32>((a & m4) | ((hh & m2) << vec4<u32>(4u))) - 32.0, X.a);
      let s1 = dot(vec4<f32>((e & m4) | (((hh >> vec4<u32>(2u)) & m2) << vec4<u32>(4u))) - 32.0, X.b);
      let s2 = dot(vec4<f32>((a >> vec4<u32>(4u)) | (((hh >> vec4<u32>(4u)) & m2) << vec4<u32>(4u))) - 32.0, X.c);
      let s3 = dot(vec4<f32>((e >> vec4<u32>(4u)) | ((hh >> vec4<u32>(6u)) << vec4<u32>(4u))) - 32.0, X.d);
      let sc = bb + 192u + 8u * h + (v >> 2u);
      return ld_f16(bb + 208u) * (ld_i8(sc) * s0 + ld_i8(sc + 2u) * s1 + ld_i8(sc + 4u) * s2 + ld_i8(sc + 6u) * s3);
    }
  }
}

fn seg_fmt(s: u32) -> u32 {
  return select(select(FMT2, FMT1, s == 1u), FMT0, s == 0u);
}

@compute @workgroup_size(WG_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_id) sg_id: u32,
  @builtin(num_subgroups) n_sg: u32,
//#endif
) {
  // Workgroup -> (segment, first row). Every branch below is workgroup-uniform.
  var g = wg.x + wg.y * nwg.x;
  var seg = 0u;
//#ifnot GLU
  for (; seg < params.n_seg; seg++) {
    let groups = (params.seg_rows[seg] + ROWS - 1u) / ROWS;
    if (g < groups) {
      break;
    }
    g -= groups;
  }
  if (seg >= params.n_seg) {
    return;
  }
//#else
  if (g * ROWS >= params.seg_rows[0]) {
    return;
  }
//#endif
  let r0 = g * ROWS;
  let rows = params.seg_rows[seg];
  let n = params.in_dim;

  var acc: array<f32, NRED>;
  for (var i = 0u; i < NRED; i++) {
    acc[i] = 0.0;
  }
//#if GLU
  for (var part = 0u; part < 2u; part++) {
    let s = part;
//#else
  {
    let part = 0u;
    let s = seg;
//#endif
    let fmt = seg_fmt(s);
    let rb = row_bytes(fmt, n);
    let n_units = n / block_elems(fmt) * units_per_block(fmt);
    let base = params.seg_off[s] + r0 * rb;
    for (var u = lid; u < n_units; u += WG_SIZE) {
      let X = unit_x(fmt, u);
      for (var r = 0u; r < ROWS; r++) {
        if (r0 + r < rows) {
          acc[part * ROWS + r] += dot_unit(fmt, base + r * rb, u, X);
        }
      }
    }
  }
//#if NORM
  for (var k = lid; k < n; k += WG_SIZE) {
    let v = x[k];
    acc[NACC] += v * v;
  }
//#endif

//#if SUBGROUPS
  for (var i = 0u; i < NRED; i++) {
    let s = subgroupAdd(acc[i]);
    if (sg_lane == 0u) {
      red[sg_id * NRED + i] = s;
    }
  }
  workgroupBarrier();
  if (lid < NRED) {
    var t = 0.0;
    for (var j = 0u; j < n_sg; j++) {
      t += red[j * NRED + lid];
    }
    tot[lid] = t;
  }
//#else
  for (var i = 0u; i < NRED; i++) {
    red[i * WG_SIZE + lid] = acc[i];
  }
  workgroupBarrier();
  for (var stride = WG_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      for (var i = 0u; i < NRED; i++) {
        red[i * WG_SIZE + lid] += red[i * WG_SIZE + lid + stride];
      }
    }
    workgroupBarrier();
  }
  if (lid < NRED) {
    tot[lid] = red[lid * WG_SIZE];
  }
//#endif
  workgroupBarrier();

  if (lid < ROWS && r0 + lid < rows) {
    let row = r0 + lid;
//#if NORM
    let scale = inverseSqrt(tot[NACC] / f32(n) + params.eps);
//#else
    let scale = 1.0;
//#endif
    let o = params.seg_out[seg] + row;
//#if GLU
    let gate = tot[lid] * scale;
    let up = tot[ROWS + lid] * scale;
    y[o] = gate / (1.0 + exp(-gate)) * up;
//#else
    let v = tot[lid] * scale;
//#if ADD
    y[o] = y[o] + v;
//#else
    y[o] = v;
//#endif
//#endif
  }
}
