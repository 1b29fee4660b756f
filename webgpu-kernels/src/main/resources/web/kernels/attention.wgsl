// Attention of query tokens over the KV cache, one workgroup per (token t, query head h), with
// grouped-query attention (head h reads KV head h / (n_head / n_kv_head)), causal (token t at
// position pos0 + t sees cache positions 0 .. pos0 + t) and an online softmax over key tiles of
// WG_SIZE keys: per tile, invocation j scores key j (q·k * kq_scale), the workgroup reduces the
// tile max and sum, rescales the running output by exp(m_old - m_new), and invocation d then
// accumulates sum_j p_j * V[j][d] for its output dimensions (coalesced V reads). Nothing is stored
// per position, so any context length works with head_dim <= MAX_D.
//
// FUSED_ROPE (decode, n_q == 1): the Q|K|V projections come unrotated; the workgroup applies RoPE
// to its query head and to the new K, and uses the new K/V for the current position straight from
// workgroup memory; the first query head of each KV group also appends K (rotated) and V to the
// caches. That is the "RoPE + KV append" step fused into attention (no separate dispatch). Other
// workgroups never read the cache row being written, so there is no race.
// Without FUSED_ROPE (prefill), rope_kv.wgsl has already rotated Q and filled the caches.
//
// Bindings (group 0): 0 = qkv (read), 1 = K cache, 2 = V cache (read_write when FUSED_ROPE),
// 3 = freqs (FUSED_ROPE), 4 = out, 5 = params (AttnParams, rope_common.wgsl).

//#if SUBGROUPS
enable subgroups;
//#endif

//#include rope_common

override WG_SIZE: u32 = 64u;
const MAX_D: u32 = 256u;
const NEG_BIG: f32 = -3.0e38;

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
//#if FUSED_ROPE
@group(0) @binding(1) var<storage, read_write> kcache: array<f32>;
@group(0) @binding(2) var<storage, read_write> vcache: array<f32>;
//#else
@group(0) @binding(1) var<storage, read> kcache: array<f32>;
@group(0) @binding(2) var<storage, read> vcache: array<f32>;
//#endif
// Only used (and bound) with FUSED_ROPE; declared always for rope_common.
@group(0) @binding(3) var<storage, read> freqs: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: AttnParams;

var<workgroup> qs: array<f32, MAX_D>;
var<workgroup> o: array<f32, MAX_D>;
//#if FUSED_ROPE
var<workgroup> knew: array<f32, MAX_D>;
var<workgroup> vnew: array<f32, MAX_D>;
//#endif
var<workgroup> p: array<f32, WG_SIZE>;
var<workgroup> red: array<f32, WG_SIZE>;

//#if SUBGROUPS
fn reduce(v: f32, is_max: bool, lid: u32, sg_lane: u32, sg_id: u32, n_sg: u32) -> f32 {
  var s: f32;
  if (is_max) {
    s = subgroupMax(v);
  } else {
    s = subgroupAdd(v);
  }
  if (sg_lane == 0u) {
    red[sg_id] = s;
  }
  workgroupBarrier();
  var r = red[0];
  for (var i = 1u; i < n_sg; i++) {
    r = select(r + red[i], max(r, red[i]), is_max);
  }
  workgroupBarrier();
  return r;
}
//#else
fn reduce(v: f32, is_max: bool, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var stride = WG_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let a = red[lid];
      let b = red[lid + stride];
      red[lid] = select(a + b, max(a, b), is_max);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
//#endif

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
  let g = wg.x + wg.y * nwg.x;
  if (g >= params.n_q * params.n_head) {
    return;
  }
  let t = g / params.n_head;
  let h = g % params.n_head;
  let group = params.n_head / params.n_kv_head;
  let kvh = h / group;
  let d = params.head_dim;
  let pos = params.pos0 + t;
  let n_keys = pos + 1u;
  let row = t * params.q_stride;
  let qb = params.q_off + row + h * d;
  let cache_head = params.cache_off + kvh * d;

//#if FUSED_ROPE
  let kb = params.k_off + row + kvh * d;
  let vb = params.v_off + row + kvh * d;
  let writer = (h % group) == 0u;
  let cb = cache_head + pos * params.kv_stride;
  for (var i = lid; i < d / 2u; i += WG_SIZE) {
    let cs = rope_cs(pos, i);
    let rq = rotate(qkv[qb + 2u * i], qkv[qb + 2u * i + 1u], cs);
    qs[2u * i] = rq.x;
    qs[2u * i + 1u] = rq.y;
    let rk = rotate(qkv[kb + 2u * i], qkv[kb + 2u * i + 1u], cs);
    knew[2u * i] = rk.x;
    knew[2u * i + 1u] = rk.y;
    let v0 = qkv[vb + 2u * i];
    let v1 = qkv[vb + 2u * i + 1u];
    vnew[2u * i] = v0;
    vnew[2u * i + 1u] = v1;
    if (writer) {
      kcache[cb + 2u * i] = rk.x;
      kcache[cb + 2u * i + 1u] = rk.y;
      vcache[cb + 2u * i] = v0;
      vcache[cb + 2u * i + 1u] = v1;
    }
  }
//#else
  for (var i = lid; i < d; i += WG_SIZE) {
    qs[i] = qkv[qb + i];
  }
//#endif
  for (var i = lid; i < d; i += WG_SIZE) {
    o[i] = 0.0;
  }
  workgroupBarrier();

  var m = NEG_BIG;
  var l = 0.0;
  for (var tile = 0u; tile < n_keys; tile += WG_SIZE) {
    let key = tile + lid;
    var s = NEG_BIG;
    if (key < n_keys) {
      var dot = 0.0;
//#if FUSED_ROPE
      if (key == pos) {
        for (var i = 0u; i < d; i++) {
          dot += qs[i] * knew[i];
        }
      } else {
//#else
      {
//#endif
        let kr = cache_head + key * params.kv_stride;
        for (var i = 0u; i < d; i++) {
          dot += qs[i] * kcache[kr + i];
        }
      }
      s = dot * params.kq_scale;
    }
//#if SUBGROUPS
    let m_new = max(m, reduce(s, true, lid, sg_lane, sg_id, n_sg));
//#else
    let m_new = max(m, reduce(s, true, lid));
//#endif
    let alpha = exp(m - m_new);
    let pj = select(0.0, exp(s - m_new), key < n_keys);
    p[lid] = pj;
//#if SUBGROUPS
    let psum = reduce(pj, false, lid, sg_lane, sg_id, n_sg);
//#else
    let psum = reduce(pj, false, lid);
//#endif
    l = l * alpha + psum;
    m = m_new;
    let nk = min(WG_SIZE, n_keys - tile);
    for (var i = lid; i < d; i += WG_SIZE) {
      var a = o[i] * alpha;
      for (var j = 0u; j < nk; j++) {
        let kj = tile + j;
//#if FUSED_ROPE
        let vv = select(vcache[cache_head + kj * params.kv_stride + i], vnew[i], kj == pos);
//#else
        let vv = vcache[cache_head + kj * params.kv_stride + i];
//#endif
        a += p[j] * vv;
      }
      o[i] = a;
    }
    workgroupBarrier();
  }

  let ob = t * params.out_stride + h * d;
  for (var i = lid; i < d; i += WG_SIZE) {
    out[ob + i] = o[i] / l;
  }
}
