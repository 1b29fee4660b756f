// Greedy sampling on the GPU: index of the largest of n logits (lowest index on ties), written as
// one u32 so that only 4 bytes per token are read back (or the id feeds embed.wgsl directly).
// A single workgroup: invocations stride over the logits keeping (max, index), then a
// shared-memory tree merges the pairs.
// Bindings (group 0): 0 = logits, 3 = out (u32), 4 = params. Dispatch: (1, 1, 1).

struct Params {
  n: u32,
  off: u32,     // element offset of logit 0
  out_idx: u32, // where in `out` to write the id
  _pad: u32,
}

override WG_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> bv: array<f32, WG_SIZE>;
var<workgroup> bi: array<u32, WG_SIZE>;

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var best = -3.4e38;
  var idx = 0xFFFFFFFFu;
  for (var i = lid; i < params.n; i += WG_SIZE) {
    let v = logits[params.off + i];
    if (v > best || idx == 0xFFFFFFFFu) {
      best = v;
      idx = i;
    }
  }
  bv[lid] = best;
  bi[lid] = idx;
  workgroupBarrier();
  for (var stride = WG_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let v2 = bv[lid + stride];
      let i2 = bi[lid + stride];
      let v1 = bv[lid];
      let i1 = bi[lid];
      // i2 == none loses; otherwise the larger value wins, ties go to the smaller index.
      if (i2 != 0xFFFFFFFFu && (i1 == 0xFFFFFFFFu || v2 > v1 || (v2 == v1 && i2 < i1))) {
        bv[lid] = v2;
        bi[lid] = i2;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[params.out_idx] = bi[0];
  }
}
