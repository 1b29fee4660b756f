// Prefill mat-mul over raw GGUF weights: Y[t, row] (+)= sum_k W[row, k] * X[t, k] for n_tok
// tokens at once, so each weight is read (and dequantised) once per token tile instead of once
// per token. Any weight format of quant_common.wgsl; X and Y are f32.
// Segments (as matvec.wgsl): up to three matrices of the same in_dim in the same buffer W (a layer's
// Q, K, V, or gate and up) in one dispatch: segment s starts at byte seg_off[s], has seg_rows[s] rows
// in format FMT<s> and writes Y[seg_out[s] + t * y_stride + row]. Each workgroup's row tile lies in
// one segment (tiles are numbered segment after segment).
//
// Tiling: a workgroup of 16x16 invocations (256 = the WebGPU guaranteed minimum of
// maxComputeInvocationsPerWorkgroup) owns a TR-row x TT-token output tile (the runner's choice, 32x32
// by default; 64 is allowed for either); per K chunk of BK (32: one Q4_0/Q4_1/Q8_0 block, an eighth of
// a K-quant super-block; 16 when a tile side is 64, so the staged tiles stay within 8.5 KiB) it stages
// the weight tile (dequant4: 4 elements per call) and the activation tile in workgroup memory, then each invocation
// accumulates a (TR/16)x(TT/16) register tile (rows lr + 16i x tokens lt + 16j). Both tiles are staged
// as vec4s of 4 consecutive k, so an inner step reads one vec4 per row and per token and does vec4 dot
// products. The staged rows are BK/4 + 1 vec4s apart: with BK floats apart, the rows an inner step reads
// would all sit in the same memory banks (a 16-way conflict; on an H100 padding alone made a 1B layer's
// mat-muls 4.9 -> 1.6 ms at 64 tokens, the vec4 steps then 1.6 -> 1.2 ms, dequant4 1.2 -> 1.0 ms; 64x64
// tiles took 1.4 ms there, faster only for the largest product).
// ADD: Y += (residual add fused in). NORM: RMSNorm of each X row fused in (the prefill's attn/ffn norm):
// the norm weight multiplies the staged weight tile (W[r,k]*nw[k]), the tile's tokens' sums of squares are
// accumulated from the staged activation tiles (every K chunk of every token passes through xs), and the
// per-token scale 1/sqrt(mean + eps) multiplies the accumulator at the end. Rows/tokens/K need not be multiples of 32 for F32/F16; the
// quantised formats need in_dim to be a multiple of their block size (always true in GGUF).
//
// Bindings (group 0): 0 = W (u32 bytes), 1 = X, 2 = norm weight (NORM), 3 = Y, 4 = params.
// Dispatch: (sum_s ceil(seg_rows[s] / TR), ceil(n_tok / TT), 1).

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
const TR: u32 = {{TR}}u;  // rows per output tile (32 or 64)
const TT: u32 = {{TT}}u;  // tokens per output tile (32 or 64)
const BK: u32 = {{BK}}u;  // K chunk staged per step (16 or 32)
const BQ: u32 = BK / 4u;  // vec4s per staged row
const BQP: u32 = BQ + 1u; // row stride of the staged tiles in vec4s: the rows one inner step reads lie in distinct banks
const RR: u32 = TR / 16u; // rows per invocation
const RT: u32 = TT / 16u; // tokens per invocation

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
//#if NORM
@group(0) @binding(2) var<storage, read> NW: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> ws: array<vec4<f32>, TR * BQP>; // [row][k / 4]
var<workgroup> xs: array<vec4<f32>, TT * BQP>; // [token][k / 4]
//#if NORM
var<workgroup> scl: array<f32, TT>;      // per-token RMSNorm scale
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
    let tiles = (params.seg_rows[s] + TR - 1u) / TR;
    if (tile < tiles || s + 1u >= params.n_seg) {
      break;
    }
    tile -= tiles;
    s++;
  }
  let fmt = select(select(FMT2, FMT1, s == 1u), FMT0, s == 0u);
  let rows = params.seg_rows[s];
  let w_off = params.seg_off[s];
  let row0 = tile * TR;
  let tok0 = wg.y * TT;
  let n = params.in_dim;
  let rb = row_bytes(fmt, n);
  let lr = lid3.x;
  let lt = lid3.y;
  var acc: array<f32, RR * RT>;
  for (var i = 0u; i < RR * RT; i++) {
    acc[i] = 0.0;
  }
  var ss = 0.0; // NORM: sum of squares of token tok0 + lid (lid < TT)

  for (var k0 = 0u; k0 < n; k0 += BK) {
    // each invocation stages runs of 4 consecutive k (one vec4)
    for (var e = lid; e < TR * BQ; e += 256u) {
      let r = e / BQ;
      let k = k0 + 4u * (e % BQ);
      let row = row0 + r;
      var wv = vec4<f32>(0.0);
      if (row < rows) {
        let base = w_off + row * rb;
        if (k + 3u < n) {
          wv = dequant4(fmt, base, k);
        } else { // the tail of an F32/F16 row whose length is not a multiple of 4
          for (var c = 0u; c < 4u; c++) {
            if (k + c < n) {
              wv[c] = dequant(fmt, base, k + c);
            }
          }
        }
//#if NORM
        for (var c = 0u; c < 4u; c++) {
          if (k + c < n) {
            wv[c] *= NW[params.norm_off + k + c];
          }
        }
//#endif
      }
      ws[r * BQP + e % BQ] = wv;
    }
    for (var e = lid; e < TT * BQ; e += 256u) {
      let t = e / BQ;
      let k = k0 + 4u * (e % BQ);
      let tok = tok0 + t;
      var xv = vec4<f32>(0.0);
      if (tok < params.n_tok) {
        let xo = params.x_off + tok * params.x_stride + k;
        for (var c = 0u; c < 4u; c++) {
          if (k + c < n) {
            xv[c] = X[xo + c];
          }
        }
      }
      xs[t * BQP + e % BQ] = xv;
    }
    workgroupBarrier();
//#if NORM
    if (lid < TT) {
      for (var q = 0u; q < BQ; q++) {
        let v = xs[lid * BQP + q];
        ss += dot(v, v);
      }
    }
//#endif
    for (var q = 0u; q < BQ; q++) {
      var wr: array<vec4<f32>, RR>;
      var xr: array<vec4<f32>, RT>;
      for (var i = 0u; i < RR; i++) {
        wr[i] = ws[(lr + 16u * i) * BQP + q];
      }
      for (var j = 0u; j < RT; j++) {
        xr[j] = xs[(lt + 16u * j) * BQP + q];
      }
      for (var i = 0u; i < RR; i++) {
        for (var j = 0u; j < RT; j++) {
          acc[i * RT + j] += dot(wr[i], xr[j]);
        }
      }
    }
    workgroupBarrier();
  }
//#if NORM
  if (lid < TT) {
    scl[lid] = inverseSqrt(ss / f32(n) + params.eps);
  }
  workgroupBarrier();
//#endif

  for (var i = 0u; i < RR; i++) {
    for (var j = 0u; j < RT; j++) {
      let row = row0 + lr + 16u * i;
      let tok = tok0 + lt + 16u * j;
      if (row < rows && tok < params.n_tok) {
        var v = acc[i * RT + j];
//#if NORM
        v *= scl[lt + 16u * j];
//#endif
        let idx = params.seg_out[s] + tok * params.y_stride + row;
//#if ADD
        Y[idx] = Y[idx] + v;
//#else
        Y[idx] = v;
//#endif
      }
    }
  }
}
