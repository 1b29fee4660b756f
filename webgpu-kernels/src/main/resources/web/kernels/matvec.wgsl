// Decode mat-vec over raw GGUF weights: y = W · x, one template for every weight format
// (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K; block layouts of ggml-common.h, decoded in the shader).
//
// One dispatch can cover up to three weight matrices ("segments") that live in the same weight
// buffer W (e.g. a layer's Q, K and V, uploaded as that layer's GGUF byte range): segment s starts
// at byte seg_off[s], has seg_rows[s] rows of in_dim elements in format FMT<s>, and writes its
// results at y[seg_out[s] + row]. Optional fusions (runner.js defines):
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
// segment (so x loads are shared between those rows through the cache), then the per-invocation
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
    case 0u, 1u: { return 1u; }
    case 12u, 14u: { return 16u; }
    default: { return 4u; }
  }
}

// Partial dot product of unit `u` of the row whose bytes start at `row` with x.
fn dot_unit(fmt: u32, row: u32, u: u32) -> f32 {
  switch fmt {
    case 0u: {
      return bitcast<f32>(ld_u32(row + 4u * u)) * xv(u);
    }
    case 1u: {
      return ld_f16(row + 2u * u) * xv(u);
    }
    case 2u: { // Q4_0: unit t covers bytes qs[4t..4t+3] -> elements 4t+i (low), 16+4t+i (high)
      let b = u >> 2u;
      let t = u & 3u;
      let bb = row + b * 18u;
      let qw = ld_u32(bb + 2u + 4u * t);
      let k0 = b * 32u + 4u * t;
      var s = 0.0;
      for (var i = 0u; i < 4u; i++) {
        let q = byte_of(qw, i);
        s += (f32(q & 0xFu) - 8.0) * xv(k0 + i) + (f32(q >> 4u) - 8.0) * xv(k0 + 16u + i);
      }
      return s * ld_f16(bb);
    }
    case 3u: { // Q4_1
      let b = u >> 2u;
      let t = u & 3u;
      let bb = row + b * 20u;
      let qw = ld_u32(bb + 4u + 4u * t);
      let k0 = b * 32u + 4u * t;
      var s = 0.0;
      var sx = 0.0;
      for (var i = 0u; i < 4u; i++) {
        let q = byte_of(qw, i);
        let x0 = xv(k0 + i);
        let x1 = xv(k0 + 16u + i);
        s += f32(q & 0xFu) * x0 + f32(q >> 4u) * x1;
        sx += x0 + x1;
      }
      return s * ld_f16(bb) + sx * ld_f16(bb + 2u);
    }
    case 8u: { // Q8_0: unit t covers qs[8t..8t+7]
      let b = u >> 2u;
      let t = u & 3u;
      let bb = row + b * 34u;
      let q0 = ld_u32(bb + 2u + 8u * t);
      let q1 = ld_u32(bb + 6u + 8u * t);
      let k0 = b * 32u + 8u * t;
      var s = 0.0;
      for (var i = 0u; i < 4u; i++) {
        s += sbyte_of(q0, i) * xv(k0 + i) + sbyte_of(q1, i) * xv(k0 + 4u + i);
      }
      return s * ld_f16(bb);
    }
    case 12u: { // Q4_K: unit u -> sub-block pair p = u/4, qs bytes [32p + 8c, +8), c = u%4
      let b = u >> 4u;
      let p = (u >> 2u) & 3u;
      let c = u & 3u;
      let bb = row + b * 144u;
      let qa = ld_u32(bb + 16u + 32u * p + 8u * c);
      let qb = ld_u32(bb + 20u + 32u * p + 8u * c);
      let k0 = b * 256u + 64u * p + 8u * c;
      var slo = 0.0;
      var shi = 0.0;
      var xlo = 0.0;
      var xhi = 0.0;
      for (var i = 0u; i < 4u; i++) {
        let a = byte_of(qa, i);
        let e = byte_of(qb, i);
        let xa = xv(k0 + i);
        let xb = xv(k0 + 4u + i);
        let xc = xv(k0 + 32u + i);
        let xd = xv(k0 + 36u + i);
        slo += f32(a & 0xFu) * xa + f32(e & 0xFu) * xb;
        shi += f32(a >> 4u) * xc + f32(e >> 4u) * xd;
        xlo += xa + xb;
        xhi += xc + xd;
      }
      let d = ld_f16(bb);
      let dmin = ld_f16(bb + 2u);
      let sm0 = q4k_scale_min(bb + 4u, 2u * p);
      let sm1 = q4k_scale_min(bb + 4u, 2u * p + 1u);
      return d * (sm0.x * slo + sm1.x * shi) - dmin * (sm0.y * xlo + sm1.y * xhi);
    }
    default: { // Q6_K: unit u -> half h = u/8, l = 4*(u%8) .. +3, all four quarters
      let b = u >> 4u;
      let h = (u >> 3u) & 1u;
      let v = u & 7u;
      let bb = row + b * 210u;
      let qa = ld_u32(bb + 64u * h + 4u * v);
      let qb = ld_u32(bb + 64u * h + 32u + 4u * v);
      let qh = ld_u32(bb + 128u + 32u * h + 4u * v);
      let k0 = b * 256u + 128u * h + 4u * v;
      var s0 = 0.0;
      var s1 = 0.0;
      var s2 = 0.0;
      var s3 = 0.0;
      for (var i = 0u; i < 4u; i++) {
        let a = byte_of(qa, i);
        let e = byte_of(qb, i);
        let hh = byte_of(qh, i);
        s0 += (f32((a & 0xFu) | ((hh & 3u) << 4u)) - 32.0) * xv(k0 + i);
        s1 += (f32((e & 0xFu) | (((hh >> 2u) & 3u) << 4u)) - 32.0) * xv(k0 + 32u + i);
        s2 += (f32((a >> 4u) | (((hh >> 4u) & 3u) << 4u)) - 32.0) * xv(k0 + 64u + i);
        s3 += (f32((e >> 4u) | ((hh >> 6u) << 4u)) - 32.0) * xv(k0 + 96u + i);
      }
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
      for (var r = 0u; r < ROWS; r++) {
        if (r0 + r < rows) {
          acc[part * ROWS + r] += dot_unit(fmt, base + r * rb, u);
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
