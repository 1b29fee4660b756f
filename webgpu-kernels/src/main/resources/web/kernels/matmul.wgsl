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
// the dequantised weight tile and the activation tile in workgroup memory, then each invocation
// accumulates a (TR/16)x(TT/16) register tile (rows lr + 16i x tokens lt + 16j). The staged rows are
// BK + 1 floats apart: with BK apart, the 16 rows an inner step reads would all sit in one memory bank
// (a 16-way conflict; on an H100 this padding alone made the layer's mat-muls ~2.9x faster).
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
const BKP: u32 = BK + 1u; // row stride of the staged tiles: the 16 rows (tokens) one inner step reads lie in 16 banks
const RR: u32 = TR / 16u; // rows per invocation
const RT: u32 = TT / 16u; // tokens per invocation

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
//#if NORM
@group(0) @binding(2) var<storage, read> NW: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> ws: array<f32, TR * BKP>; // [row][k]
var<workgroup> xs: array<f32, TT * BKP>; // [token][k]
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
    for (var e = lid; e < TR * BK; e += 256u) {
      let r = e / BK;
      let k = e % BK;
      let row = row0 + r;
      var wv = 0.0;
      if (k0 + k < n && row < rows) {
        wv = dequant(fmt, w_off + row * rb, k0 + k);
//#if NORM
        wv *= NW[params.norm_off + k0 + k];
//#endif
      }
      ws[r * BKP + k] = wv;
    }
    for (var e = lid; e < TT * BK; e += 256u) {
      let t = e / BK;
      let k = e % BK;
      let tok = tok0 + t;
      var xv = 0.0;
      if (k0 + k < n && tok < params.n_tok) {
        xv = X[params.x_off + tok * params.x_stride + k0 + k];
      }
      xs[t * BKP + k] = xv;
    }
    workgroupBarrier();
//#if NORM
    if (lid < TT) {
      for (var k = 0u; k < BK; k++) {
        let v = xs[lid * BKP + k];
        ss += v * v;
      }
    }
//#endif
    for (var k = 0u; k < BK; k++) {
      var wr: array<f32, RR>;
      var xr: array<f32, RT>;
      for (var i = 0u; i < RR; i++) {
        wr[i] = ws[(lr + 16u * i) * BKP + k];
      }
      for (var j = 0u; j < RT; j++) {
        xr[j] = xs[(lt + 16u * j) * BKP + k];
      }
      for (var i = 0u; i < RR; i++) {
        for (var j = 0u; j < RT; j++) {
          acc[i * RT + j] += wr[i] * xr[j];
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
