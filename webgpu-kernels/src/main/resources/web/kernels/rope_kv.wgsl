// RoPE + KV-cache append for several tokens (prefill): rotates Q in place in `qkv`, rotates K into
// the K cache and copies V into the V cache at positions pos0 .. pos0 + n_q - 1.
// (Decode fuses the same work into attention.wgsl with FUSED_ROPE; see there.)
//
// One workgroup per (token t, head slot): slots 0 .. n_head-1 rotate query heads, slots
// n_head .. n_head+n_kv_head-1 handle KV head (slot - n_head). Layouts: see rope_common.wgsl.
// Bindings (group 0): 0 = qkv (read_write), 1 = K cache, 2 = V cache, 3 = freqs, 5 = params.

//#include rope_common

override WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> kcache: array<f32>;
@group(0) @binding(2) var<storage, read_write> vcache: array<f32>;
@group(0) @binding(3) var<storage, read> freqs: array<f32>;
@group(0) @binding(5) var<uniform> params: AttnParams;

@compute @workgroup_size(WG_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let slots = params.n_head + params.n_kv_head;
  let g = wg.x + wg.y * nwg.x;
  if (g >= params.n_q * slots) {
    return;
  }
  let t = g / slots;
  let slot = g % slots;
  let d = params.head_dim;
  let pos = params.pos0 + t;
  let row = t * params.q_stride;
  if (slot < params.n_head) {
    let qb = params.q_off + row + slot * d;
    for (var i = lid; i < d / 2u; i += WG_SIZE) {
      let r = rotate(qkv[qb + 2u * i], qkv[qb + 2u * i + 1u], rope_cs(pos, i));
      qkv[qb + 2u * i] = r.x;
      qkv[qb + 2u * i + 1u] = r.y;
    }
  } else {
    let kvh = slot - params.n_head;
    let kb = params.k_off + row + kvh * d;
    let vb = params.v_off + row + kvh * d;
    let cb = params.cache_off + pos * params.kv_stride + kvh * d;
    for (var i = lid; i < d / 2u; i += WG_SIZE) {
      let r = rotate(qkv[kb + 2u * i], qkv[kb + 2u * i + 1u], rope_cs(pos, i));
      kcache[cb + 2u * i] = r.x;
      kcache[cb + 2u * i + 1u] = r.y;
      vcache[cb + 2u * i] = qkv[vb + 2u * i];
      vcache[cb + 2u * i + 1u] = qkv[vb + 2u * i + 1u];
    }
  }
}
