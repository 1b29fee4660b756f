// Element-wise ops for the prefill path (decode fuses them into matvec.wgsl epilogues):
//   SWIGLU: y[y_off + i] = silu(a[a_off + i]) * b[b_off + i]
//   ADD:    y[y_off + i] += a[a_off + i]            (residual add, in place)
// Bindings (group 0): 0 = a, 1 = b (SWIGLU), 3 = y, 4 = params. Dispatch: ceil(n / WG_SIZE) groups.

struct Params {
  n: u32,
  a_off: u32,
  b_off: u32,
  y_off: u32,
}

override WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
//#if SWIGLU
@group(0) @binding(1) var<storage, read> b: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG_SIZE + lid;
  if (i >= params.n) {
    return;
  }
  let av = a[params.a_off + i];
//#if SWIGLU
  y[params.y_off + i] = av / (1.0 + exp(-av)) * b[params.b_off + i];
//#else
  y[params.y_off + i] = y[params.y_off + i] + av;
//#endif
}
