// Sampling on the GPU with io.earnidle.node.llama.Sampler's semantics, so that only the drawn token id (one u32)
// is read back: repetition penalty -> (greedy: top-1) temperature -> sort by logit desc (ties: lower id first) ->
// top-k -> softmax -> top-p -> min-p -> draw with u * total walking the sorted list.
//
// One workgroup (the chain is sequential and the candidate set small):
//   1. pl = copy of the logits with the repetition penalty applied to the (distinct, CPU-deduplicated) ids in
//      pen_ids (logit > 0: / penalty, else * penalty); the logits themselves stay unpenalized for a CPU fallback.
//   2. M = min(k, CAP) where k = 1 (greedy), top_k, or n (top_k 0): a radix select over the order-preserving u32
//      key of the f32 logits finds the key t of the M-th largest (4 histogram passes of 8 bits).
//   3. Every id with key >= t goes to the candidate list in workgroup memory (more than CAP: ties at t overflow ->
//      fallback), which a bitonic sort orders by (key desc, id asc): its first M entries are the Sampler's first M.
//   4. Softmax denominator: over the first k candidates (k <= CAP), else over the whole top-k set (a reduction pass;
//      a second radix select finds the k-th key when CAP < k < n).
//   5. Invocation 0 walks the sorted candidates: top-p cut, min-p cut, then the draw. When the kept set is not
//      bounded by the candidates (k > CAP and the top-p / min-p cut is not reached inside them), it writes NONE and
//      the caller samples the logits on the CPU with the same u (Engine.OUT_SAMPLE).
// f32 here vs double in the Sampler: a draw can differ only when u * total lies within ~1e-6 of a cumulative
// boundary (or the top-p cut within ~1e-6 of top_p).
// Bindings (group 0): 0 = logits, 1 = pen_ids (u32), 2 = pl (scratch, n f32), 3 = out (u32), 4 = params.
// Dispatch: (1, 1, 1).

struct Params {
  n: u32,
  n_pen: u32,   // ids in pen_ids
  k: u32,       // top-k set size: 1 for greedy, top_k, or n
  out_idx: u32,
  penalty: f32,
  inv_temp: f32,
  top_p: f32,
  min_p: f32,
  u: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

override WG_SIZE: u32 = 256u;
const CAP: u32 = 1024u;
const NONE: u32 = 0xFFFFFFFFu;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> pen_ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> pl: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> ck: array<u32, CAP>; // candidate keys
var<workgroup> ci: array<u32, CAP>; // candidate ids
var<workgroup> cnt: atomic<u32>;
var<workgroup> bcast: u32;
var<workgroup> red: array<f32, WG_SIZE>;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel_prefix: u32;
var<workgroup> sel_rank: u32;

// Order-preserving map f32 -> u32 (larger float, larger key) and back.
fn key(f: f32) -> u32 {
  let b = bitcast<u32>(f);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn unkey(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7FFFFFFFu, (k & 0x80000000u) != 0u));
}

// Sorted order: larger key first, then lower id.
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

// Number of logits with key >= c (workgroup-uniform result).
fn count_ge(c: u32, lid: u32) -> u32 {
  if (lid == 0u) {
    atomicStore(&cnt, 0u);
  }
  workgroupBarrier();
  var m = 0u;
  for (var i = lid; i < params.n; i += WG_SIZE) {
    if (key(pl[i]) >= c) {
      m++;
    }
  }
  atomicAdd(&cnt, m);
  workgroupBarrier();
  if (lid == 0u) {
    bcast = atomicLoad(&cnt);
  }
  return workgroupUniformLoad(&bcast);
}

// Key of the m-th largest logit (1 <= m <= n): radix select, 8 bits per pass from the top, over a 256-bin histogram
// of the keys that share the digits chosen so far (4 passes over the logits).
fn kth_key(m: u32, lid: u32) -> u32 {
  var prefix = 0u;
  var rank = m; // rank among the keys that match prefix
  for (var shift = 24u; ; shift -= 8u) {
    for (var b = lid; b < 256u; b += WG_SIZE) {
      atomicStore(&hist[b], 0u);
    }
    workgroupBarrier();
    let mask = select(0xFFFFFFFFu << (shift + 8u), 0u, shift == 24u); // the digits above this one
    for (var i = lid; i < params.n; i += WG_SIZE) {
      let kk = key(pl[i]);
      if ((kk & mask) == prefix) {
        atomicAdd(&hist[(kk >> shift) & 0xFFu], 1u);
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      var cum = 0u;
      var b = 255u;
      loop {
        let c = atomicLoad(&hist[b]);
        if (cum + c >= rank || b == 0u) {
          break;
        }
        cum += c;
        b--;
      }
      sel_prefix = prefix | (b << shift);
      sel_rank = rank - cum;
    }
    prefix = workgroupUniformLoad(&sel_prefix);
    rank = workgroupUniformLoad(&sel_rank);
    if (shift == 0u) {
      break;
    }
  }
  return prefix;
}

@compute @workgroup_size(WG_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let n = params.n;
  // 1. penalized copy
  for (var i = lid; i < n; i += WG_SIZE) {
    pl[i] = logits[i];
  }
  storageBarrier();
  for (var j = lid; j < params.n_pen; j += WG_SIZE) {
    let id = pen_ids[j];
    if (id < n) {
      let v = pl[id];
      pl[id] = select(v * params.penalty, v / params.penalty, v > 0.0);
    }
  }
  storageBarrier();

  // 2. key of the M-th largest
  let m_top = min(params.k, CAP);
  let t = kth_key(m_top, lid);

  // 3. candidates, bitonic sort
  if (lid == 0u) {
    atomicStore(&cnt, 0u);
  }
  for (var i = lid; i < CAP; i += WG_SIZE) {
    ck[i] = 0u;
    ci[i] = NONE;
  }
  workgroupBarrier();
  for (var i = lid; i < n; i += WG_SIZE) {
    let kk = key(pl[i]);
    if (kk >= t) {
      let slot = atomicAdd(&cnt, 1u);
      if (slot < CAP) {
        ck[slot] = kk;
        ci[slot] = i;
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    bcast = atomicLoad(&cnt);
  }
  let n_cand = workgroupUniformLoad(&bcast);
  if (n_cand > CAP) {
    if (lid == 0u) {
      out[params.out_idx] = NONE;
    }
    return;
  }
  for (var size = 2u; size <= CAP; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var i = lid; i < CAP / 2u; i += WG_SIZE) {
        let lo = 2u * stride * (i / stride) + (i % stride);
        let hi = lo + stride;
        let ka = ck[lo];
        let ia = ci[lo];
        let kb = ck[hi];
        let ib = ci[hi];
        if (before(ka, ia, kb, ib) != ((lo & size) == 0u)) {
          ck[lo] = kb;
          ci[lo] = ib;
          ck[hi] = ka;
          ci[hi] = ia;
        }
      }
      workgroupBarrier();
    }
  }

  // 4. softmax denominator over the top-k set when it is wider than the candidates: all n, or (CAP < k < n) the
  // logits above the k-th largest key plus the ties at it that the sorted order puts inside the top k
  let mx = unkey(ck[0]);
  let it = params.inv_temp;
  var sum_all = 0.0;
  if (params.k > CAP) {
    var tk = 0u;
    var ties = 0.0;
    let partial = params.k < n;
    if (partial) {
      tk = kth_key(params.k, lid);
      ties = f32(params.k - count_ge(tk + 1u, lid)) * exp((unkey(tk) - mx) * it);
    }
    var s = 0.0;
    for (var i = lid; i < n; i += WG_SIZE) {
      let v = pl[i];
      if (!partial || key(v) > tk) {
        s += exp((v - mx) * it);
      }
    }
    red[lid] = s;
    workgroupBarrier();
    for (var st = WG_SIZE / 2u; st > 0u; st >>= 1u) {
      if (lid < st) {
        red[lid] += red[lid + st];
      }
      workgroupBarrier();
    }
    sum_all = red[0] + ties;
  }

  // 5. cuts and draw
  if (lid != 0u) {
    return;
  }
  var sum = sum_all;
  if (params.k <= CAP) {
    sum = 0.0;
    for (var i = 0u; i < m_top; i++) {
      sum += exp((unkey(ck[i]) - mx) * it);
    }
  }
  var keep = params.k;
  if (params.top_p < 1.0) {
    var cum = 0.0;
    for (var i = 0u; i < m_top; i++) {
      cum += exp((unkey(ck[i]) - mx) * it) / sum;
      if (cum >= params.top_p) {
        keep = i + 1u;
        break;
      }
    }
  }
  if (params.min_p > 0.0) {
    let cut = params.min_p; // p of the first candidate is exp(0) = 1
    for (var i = 1u; i < keep; i++) {
      if (i >= m_top) {
        break; // not decided inside the candidates: keep stays > m_top -> fallback
      }
      if (exp((unkey(ck[i]) - mx) * it) < cut) {
        keep = i;
        break;
      }
    }
  }
  if (keep > m_top) {
    out[params.out_idx] = NONE;
    return;
  }
  var total = 0.0;
  for (var i = 0u; i < keep; i++) {
    total += exp((unkey(ck[i]) - mx) * it);
  }
  let u = params.u * total;
  var acc = 0.0;
  for (var i = 0u; i < keep; i++) {
    acc += exp((unkey(ck[i]) - mx) * it);
    if (u < acc) {
      out[params.out_idx] = ci[i];
      return;
    }
  }
  out[params.out_idx] = ci[keep - 1u];
}
