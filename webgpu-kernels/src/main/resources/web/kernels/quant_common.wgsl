// Shared declarations for the kernels that read raw GGUF weight bytes (included with
// `//#include quant_common` — the runner's preprocess.js inlines this file; it is not a kernel by itself).
//
// The including kernel declares the weights as `W: array<u32>` (the tensor bytes exactly as in the
// GGUF file, little-endian, uploaded as a u32 storage buffer). Every block layout below is ggml's
// (ggml-common.h); format ids are ggml_type values (FMT_*; switches name them, never bare numbers). f16 fields
// are decoded bit by bit (no shader-f16 needed, subnormals exact).

const FMT_F32: u32 = 0u;
const FMT_F16: u32 = 1u;
const FMT_Q4_0: u32 = 2u;  // 18 bytes / 32: f16 d, qs[16] (elem j: low nibble of qs[j], elem j+16: high)
const FMT_Q4_1: u32 = 3u;  // 20 bytes / 32: f16 d, f16 m, qs[16]; value = q*d + m
const FMT_Q8_0: u32 = 8u;  // 34 bytes / 32: f16 d, int8 qs[32]
const FMT_Q4_K: u32 = 12u; // 144 bytes / 256: f16 d, f16 dmin, scales[12] (6-bit), qs[128]
const FMT_Q6_K: u32 = 14u; // 210 bytes / 256: ql[128], qh[64], int8 scales[16], f16 d

// Little-endian u32 at any byte offset (two aligned loads when unaligned).
fn ld_u32(byte: u32) -> u32 {
  let w = byte >> 2u;
  let s = (byte & 3u) * 8u;
  if (s == 0u) {
    return W[w];
  }
  return (W[w] >> s) | (W[w + 1u] << (32u - s));
}

fn ld_u8(byte: u32) -> u32 {
  return (W[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xFFu;
}

fn ld_i8(byte: u32) -> f32 {
  return f32(i32(ld_u8(byte) << 24u) >> 24u);
}

// IEEE half (low 16 bits of h) to f32, exact for normals, subnormals, zeros, inf and NaN.
fn half_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1Fu;
  let m = h & 0x3FFu;
  if (e == 0u) {
    let v = f32(m) * 5.9604644775390625e-8; // m * 2^-24
    return select(v, -v, sign != 0u);
  }
  if (e == 31u) {
    return bitcast<f32>(sign | 0x7F800000u | (m << 13u));
  }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

fn ld_f16(byte: u32) -> f32 {
  return half_to_f32(ld_u32(byte) & 0xFFFFu);
}

// byte b (0..3) of a little-endian word, as u32
fn byte_of(v: u32, b: u32) -> u32 {
  return (v >> (b * 8u)) & 0xFFu;
}

fn sbyte_of(v: u32, b: u32) -> f32 {
  return f32(i32(v << (24u - b * 8u)) >> 24u);
}

// Elements per block and bytes per block of a format (io.earnidle.node.gguf.GgmlType is the source of the ids and
// sizes; GgmlFormatsTest checks the FMT_* constants and these two tables against it).
fn block_elems(fmt: u32) -> u32 {
  switch fmt {
    case FMT_F32, FMT_F16: { return 1u; }
    case FMT_Q4_K, FMT_Q6_K: { return 256u; }
    case FMT_Q4_0, FMT_Q4_1, FMT_Q8_0, default: { return 32u; }
  }
}

fn block_bytes(fmt: u32) -> u32 {
  switch fmt {
    case FMT_F32: { return 4u; }
    case FMT_F16: { return 2u; }
    case FMT_Q4_0: { return 18u; }
    case FMT_Q4_1: { return 20u; }
    case FMT_Q8_0: { return 34u; }
    case FMT_Q4_K: { return 144u; }
    case FMT_Q6_K, default: { return 210u; }
  }
}

// Bytes of one row of `n` elements (n a multiple of block_elems(fmt)).
fn row_bytes(fmt: u32, n: u32) -> u32 {
  return n / block_elems(fmt) * block_bytes(fmt);
}

// Q4_K: 6-bit scale (x) and min (y) of sub-block j (0..7) from the 12 scale bytes at `sc`.
fn q4k_scale_min(sc: u32, j: u32) -> vec2<f32> {
  if (j < 4u) {
    return vec2<f32>(f32(ld_u8(sc + j) & 63u), f32(ld_u8(sc + j + 4u) & 63u));
  }
  let hi = ld_u8(sc + j + 4u);
  let s = (hi & 0xFu) | ((ld_u8(sc + j - 4u) >> 6u) << 4u);
  let m = (hi >> 4u) | ((ld_u8(sc + j) >> 6u) << 4u);
  return vec2<f32>(f32(s), f32(m));
}

// Q6_K element j (0..255) of the block at byte bb: the byte holding its low 4 bits (ql) and their shift,
// the byte holding its high 2 bits (qh) and their shift, and its int8 scale's byte.
struct Q6kAt {
  lo: u32,
  lo_shift: u32,
  hi: u32,
  hi_shift: u32,
  sc: u32,
}

fn q6k_at(bb: u32, j: u32) -> Q6kAt {
  let half = j >> 7u;
  let quarter = (j >> 5u) & 3u;
  let l = j & 31u;
  return Q6kAt(bb + 64u * half + l + 32u * (quarter & 1u), select(0u, 4u, quarter >= 2u),
               bb + 128u + 32u * half + l, 2u * quarter, bb + 192u + 8u * half + (l >> 4u) + 2u * quarter);
}

// Element k of the row whose bytes start at `row`: the per-element decoder used by the tiled
// mat-mul and the embedding lookup (each weight is decoded once per workgroup tile there).
fn dequant(fmt: u32, row: u32, k: u32) -> f32 {
  switch fmt {
    case FMT_F32: {
      return bitcast<f32>(ld_u32(row + 4u * k));
    }
    case FMT_F16: {
      return ld_f16(row + 2u * k);
    }
    case FMT_Q4_0: {
      let bb = row + (k >> 5u) * 18u;
      let j = k & 31u;
      let q = ld_u8(bb + 2u + (j & 15u));
      let nib = select(q & 0xFu, q >> 4u, j >= 16u);
      return (f32(nib) - 8.0) * ld_f16(bb);
    }
    case FMT_Q4_1: {
      let bb = row + (k >> 5u) * 20u;
      let j = k & 31u;
      let q = ld_u8(bb + 4u + (j & 15u));
      let nib = select(q & 0xFu, q >> 4u, j >= 16u);
      return f32(nib) * ld_f16(bb) + ld_f16(bb + 2u);
    }
    case FMT_Q8_0: {
      let bb = row + (k >> 5u) * 34u;
      return ld_i8(bb + 2u + (k & 31u)) * ld_f16(bb);
    }
    case FMT_Q4_K: {
      let bb = row + (k >> 8u) * 144u;
      let j = k & 255u;
      let sub = j >> 5u;
      let q = ld_u8(bb + 16u + 32u * (sub >> 1u) + (j & 31u));
      let nib = select(q & 0xFu, q >> 4u, (sub & 1u) == 1u);
      let sm = q4k_scale_min(bb + 4u, sub);
      return ld_f16(bb) * sm.x * f32(nib) - ld_f16(bb + 2u) * sm.y;
    }
    case FMT_Q6_K, default: {
      let bb = row + (k >> 8u) * 210u;
      let a = q6k_at(bb, k & 255u);
      let nib = (ld_u8(a.lo) >> a.lo_shift) & 0xFu;
      let h = (ld_u8(a.hi) >> a.hi_shift) & 3u;
      return ld_f16(bb + 208u) * ld_i8(a.sc) * (f32(nib | (h << 4u)) - 32.0);
    }
  }
}

// Elements k .. k+3 (k a multiple of 4, k + 3 < the row's length) of the row whose bytes start at `row`:
// dequant() four times over, with the block's scales decoded once and the four quants loaded as one
// u32 (4 consecutive elements share a block, a sub-block and 4 consecutive quant bytes in every
// format). The tiled mat-mul stages its weight tile with it.
fn dequant4(fmt: u32, row: u32, k: u32) -> vec4<f32> {
  switch fmt {
    case FMT_F32: {
      let b = row + 4u * k;
      return vec4<f32>(bitcast<f32>(ld_u32(b)), bitcast<f32>(ld_u32(b + 4u)), bitcast<f32>(ld_u32(b + 8u)),
                       bitcast<f32>(ld_u32(b + 12u)));
    }
    case FMT_F16: {
      let lo = ld_u32(row + 2u * k);
      let hi = ld_u32(row + 2u * k + 4u);
      return vec4<f32>(half_to_f32(lo & 0xFFFFu), half_to_f32(lo >> 16u), half_to_f32(hi & 0xFFFFu),
                       half_to_f32(hi >> 16u));
    }
    case FMT_Q4_0: {
      let bb = row + (k >> 5u) * 18u;
      let j = k & 31u;
      let q = ld_u32(bb + 2u + (j & 15u)) >> select(0u, 4u, j >= 16u);
      let nib = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u) & vec4<u32>(0xFu);
      return (vec4<f32>(nib) - 8.0) * ld_f16(bb);
    }
    case FMT_Q4_1: {
      let bb = row + (k >> 5u) * 20u;
      let j = k & 31u;
      let q = ld_u32(bb + 4u + (j & 15u)) >> select(0u, 4u, j >= 16u);
      let nib = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u) & vec4<u32>(0xFu);
      return vec4<f32>(nib) * ld_f16(bb) + ld_f16(bb + 2u);
    }
    case FMT_Q8_0: {
      let bb = row + (k >> 5u) * 34u;
      let q = ld_u32(bb + 2u + (k & 31u));
      return vec4<f32>(sbyte_of(q, 0u), sbyte_of(q, 1u), sbyte_of(q, 2u), sbyte_of(q, 3u)) * ld_f16(bb);
    }
    case FMT_Q4_K: {
      let bb = row + (k >> 8u) * 144u;
      let j = k & 255u;
      let sub = j >> 5u;
      let q = ld_u32(bb + 16u + 32u * (sub >> 1u) + (j & 31u)) >> (4u * (sub & 1u));
      let nib = vec4<u32>(q, q >> 8u, q >> 16u, q >> 24u) & vec4<u32>(0xFu);
      let sm = q4k_scale_min(bb + 4u, sub);
      return ld_f16(bb) * sm.x * vec4<f32>(nib) - ld_f16(bb + 2u) * sm.y;
    }
    case FMT_Q6_K, default: { // (the 4 elements' bytes are consecutive: shifting the u32 shifts each byte alike)
      let bb = row + (k >> 8u) * 210u;
      let a = q6k_at(bb, k & 255u);
      let lo = ld_u32(a.lo) >> a.lo_shift;
      let h = ld_u32(a.hi) >> a.hi_shift;
      let qv = (vec4<u32>(lo, lo >> 8u, lo >> 16u, lo >> 24u) & vec4<u32>(0xFu))
             | ((vec4<u32>(h, h >> 8u, h >> 16u, h >> 24u) & vec4<u32>(3u)) << vec4<u32>(4u));
      return ld_f16(bb + 208u) * ld_i8(a.sc) * (vec4<f32>(qv) - 32.0);
    }
  }
}
