// Decode-style mat-vec  y = W · x  (f32), llama.cpp layout.
//
// W has ggml ne = [in_dim, out_dim]: row r of W is contiguous, in_dim floats starting at
// w_offset + r * in_dim. One workgroup computes one output row: each invocation accumulates a
// strided partial dot product (coalesced loads), then the workgroup reduces the partials.
//
// Template: preprocess.js (the runner's) resolves the //#if SUBGROUPS ... //#else ... //#endif blocks before
// pipeline creation. SUBGROUPS on  -> subgroupAdd + one slot per subgroup (needs the 'subgroups'
// device feature and the 'subgroup_id' WGSL language feature).
// SUBGROUPS off -> workgroup-shared-memory tree reduction (WG_SIZE must be a power of two).
//
// Bindings (group 0): 0 = W (read), 1 = x (read), 2 = y (read_write), 3 = params (uniform).
// Dispatch: (gx, gy, 1) with gx * gy >= out_dim; row = wg.x + wg.y * gx (2-D for > 65535 rows).

//#if SUBGROUPS
enable subgroups;
//#endif

struct Params {
  in_dim: u32,
  out_dim: u32,
  w_offset: u32, // element offset of row 0 inside W
  _pad: u32,
}

// Invocations per workgroup; pipeline-overridable, power of two.
override WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Partial sums: one per invocation (tree) or one per subgroup (at most WG_SIZE subgroups).
var<workgroup> partial: array<f32, WG_SIZE>;

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
  // Workgroup-uniform early exit (the grid may overshoot out_dim); safe before the barriers.
  if (row >= params.out_dim) {
    return;
  }
  let n = params.in_dim;
  let base = params.w_offset + row * n;

  var acc = 0.0;
  for (var c = lid; c < n; c += WG_SIZE) {
    acc += W[base + c] * x[c];
  }

//#if SUBGROUPS
  let s = subgroupAdd(acc);
  if (sg_lane == 0u) {
    partial[sg_id] = s;
  }
  workgroupBarrier();
  if (lid == 0u) {
    // Fixed order over subgroup slots: deterministic result for a given adapter.
    var total = 0.0;
    for (var i = 0u; i < n_sg; i++) {
      total += partial[i];
    }
    y[row] = total;
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
    y[row] = partial[0];
  }
//#endif
}
