// Prefill mat-mul over raw GGUF weights: Y[t, row] (+)= sum_k W[row, k] * X[t, k] for n_tok
// tokens at once, so each weight is read (and dequantised) once per 32-token tile instead of once
// per token. Any weight format of quant_common.wgsl; X and Y are f32.
// Segments (as matvec.wgsl): up to three matrices of the same in_dim in the same buffer W (a layer's
// Q, K, V, or gate and up) in one dispatch: segment s starts at byte seg_off[s], has seg_rows[s] rows
// in format FMT<s> and writes Y[seg_out[s] + t * y_stride + row]. Each workgroup's row tile lies in
// one segment (tiles are numbered segment after segment).
//
// Tiling: a workgroup of 16x16 invocations (256 = the WebGPU guaranteed minimum of
// maxComputeInvocationsPerWorkgroup) owns a 32-row x 32-token output tile; per K-chunk of 32 (one
// Q4_0/Q4_1/Q8_0 block, an eighth of a K-quant super-block) it stages the dequantised 32x32 weight
// tile and the 32x32 activation tile in workgroup memory (8 KiB), then each invocation accumulates
// a 2x2 register tile (rows lr, lr+16 x tokens lt, lt+16).
// ADD: Y += (residual add fused in). NORM: RMSNorm of each X row fused in (the prefill's attn/ffn norm):
// the norm weight multiplies the staged weight tile (W[r,k]*nw[k]), the 32 tokens' sums of squares are
// accumulated from the staged activation tiles (every K chunk of every token passes through xs), and the
// per-token scale 1/sqrt(mean + eps) multiplies the accumulator at the end. Rows/tokens/K need not be multiples of 32 for F32/F16; the
// quantised formats need in_dim to be a multiple of their block size (always true in GGUF).
//
// Bindings (group 0): 0 = W (u32 bytes), 1 = X, 2 = norm weight (NORM), 3 = Y, 4 = params.
// Dispatch: (sum_s ceil(seg_rows[s] / 32), ceil(n_tok / 32), 1).

//#include quant_common

struct Params {
  in_dim: u32,
  n_tok: u32,
  n_seg: u32,
  x_stride: u32, // floats between tokens in X
  y_stride: u32, // floats between tokens in Y
  x_off: u32,    // element offset of X[0, 0]
  norm_off: u32, // element offset of the norm weight (NORM)
  eps: f32,      // NORM
  seg_off: vec4<u32>,  // byte offset of row 0 of segment s in W
  seg_rows: vec4<u32>,
  seg_out: vec4<u32>,  // element offset of Y[0, row 0] of segment s
}

const FMT0: u32 = {{FMT0}}u;
const FMT1: u32 = {{FMT1}}u;
const FMT2: u32 = {{FMT2}}u;
const T: u32 = 32u;
const BK: u32 = 32u;

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
//#if NORM
@group(0) @binding(2) var<storage, read> NW: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> ws: array<f32, T * BK>; // [row][k]
var<workgroup> xs: array<f32, T * BK>; // [token][k]
//#if NORM
var<workgroup> scl: array<f32, T>;      // per-token RMSNorm scale
//#endif

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid3: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // segment of this row tile
  var s = 0u;
  var tile = wg.x;
  loop {
    let tiles = (params.seg_rows[s] + T - 1u) / T;
    if (tile < tiles || s + 1u >= params.n_seg) {
      break;
    }
    tile -= tiles;
    s++;
  }
  let fmt = select(select(FMT2, FMT1, s == 1u), FMT0, s == 0u);
  let rows = params.seg_rows[s];
  let w_off = params.seg_off[s];
  let row0 = tile * T;
  let tok0 = wg.y * T;
  let n = params.in_dim;
  let rb = row_bytes(fmt, n);
  let lr = lid3.x;
  let lt = lid3.y;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  var ss = 0.0; // NORM: sum of squares of token tok0 + lid (lid < T)

  for (var k0 = 0u; k0 < n; k0 += BK) {
    for (var e = lid; e < T * BK; e += 256u) {
      let r = e / BK;
      let k = e % BK;
      let row = row0 + r;
      let tok = tok0 + r;
      var wv = 0.0;
      var xv = 0.0;
      if (k0 + k < n) {
        if (row < rows) {
          wv = dequant(fmt, w_off + row * rb, k0 + k);
//#if NORM
          wv *= NW[params.norm_off + k0 + k];
//#endif
        }
        if (tok < params.n_tok) {
          xv = X[params.x_off + tok * params.x_stride + k0 + k];
        }
      }
      ws[e] = wv;
      xs[e] = xv;
    }
    workgroupBarrier();
//#if NORM
    if (lid < T) {
      for (var k = 0u; k < BK; k++) {
        let v = xs[lid * BK + k];
        ss += v * v;
      }
    }
//#endif
    for (var k = 0u; k < BK; k++) {
      let w0 = ws[lr * BK + k];
      let w1 = ws[(lr + 16u) * BK + k];
      let x0 = xs[lt * BK + k];
      let x1 = xs[(lt + 16u) * BK + k];
      acc[0] += w0 * x0;
      acc[1] += w1 * x0;
      acc[2] += w0 * x1;
      acc[3] += w1 * x1;
    }
    workgroupBarrier();
  }
//#if NORM
  if (lid < T) {
    scl[lid] = inverseSqrt(ss / f32(n) + params.eps);
  }
  workgroupBarrier();
  acc[0] *= scl[lt];
  acc[1] *= scl[lt];
  acc[2] *= scl[lt + 16u];
  acc[3] *= scl[lt + 16u];
//#endif

  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lr + 16u * (i & 1u);
    let tok = tok0 + lt + 16u * (i >> 1u);
    if (row < rows && tok < params.n_tok) {
      let idx = params.seg_out[s] + tok * params.y_stride + row;
//#if ADD
      Y[idx] = Y[idx] + acc[i];
//#else
      Y[idx] = acc[i];
//#endif
    }
  }
}
