// Fused RMSNorm (f32):  y[r, i] = x[r, i] / sqrt(mean_i(x[r, :]^2) + eps) * weight[i]
//
// x and y are [rows, n] row-major (ggml ne = [n, rows]); weight is [n]. One workgroup per row:
// strided sum of squares, workgroup reduction, broadcast of the scale, strided scaled write.
//
// Template: same //#if SUBGROUPS convention as matvec_f32.wgsl (see preprocess.js).
// Bindings (group 0): 0 = x (read), 1 = weight (read), 2 = y (read_write), 3 = params (uniform).
// Dispatch: (gx, gy, 1) with gx * gy >= rows; row = wg.x + wg.y * gx.

//#if SUBGROUPS
enable subgroups;
//#endif

struct Params {
  n: u32,
  rows: u32,
  eps: f32,
  _pad: u32,
}

override WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG_SIZE>;
var<workgroup> scale: f32;

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
  let row = wg.x + wg.y * nwg.x;
  if (row >= params.rows) {
    return;
  }
  let n = params.n;
  let base = row * n;

  var acc = 0.0;
  for (var c = lid; c < n; c += WG_SIZE) {
    let v = x[base + c];
    acc += v * v;
  }

//#if SUBGROUPS
  let s = subgroupAdd(acc);
  if (sg_lane == 0u) {
    partial[sg_id] = s;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var i = 0u; i < n_sg; i++) {
      total += partial[i];
    }
    scale = inverseSqrt(total / f32(n) + params.eps);
  }
//#else
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = WG_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    scale = inverseSqrt(partial[0] / f32(n) + params.eps);
  }
//#endif
  workgroupBarrier();
  let k = scale;
  for (var c = lid; c < n; c += WG_SIZE) {
    y[base + c] = x[base + c] * k * weight[c];
  }
}
