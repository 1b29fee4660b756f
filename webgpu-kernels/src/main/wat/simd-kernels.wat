;; Earn Idle CPU kernels: hand-written WebAssembly SIMD128 for Llama inference.
;;
;; Built by webgpu-kernels/wat/build.mjs into web/kernels/simd/simd-kernels{,-relaxed}{,-mt}.wasm:
;; ";;#if RELAXED" blocks use relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s), the others plain SIMD128;
;; the -mt builds import a shared memory so Workers can run disjoint row ranges of the same mat-vec.
;;
;; All data lives in the imported linear memory env.memory; every parameter named *_ptr is a byte offset.
;; Weights are the raw GGUF/ggml block bytes, rows contiguous (a tensor with ne=[cols, rows]).
;;   Q4_0 block (18 bytes): f16 d, u8 qs[16]; x[j] = d*((qs[j] & 15) - 8), x[j+16] = d*((qs[j] >> 4) - 8)
;;   Q8_0 block (34 bytes): f16 d, i8 qs[32];  x[j] = d*qs[j]
;; Quantized activations ("Q8 activation buffer", n = nb*32 values, nb*40 bytes, written by quantize_q8_0):
;;   i8 qs[nb*32] at +0 | f32 d[nb] at +nb*32 (the f16-rounded block scale, as ggml stores it) |
;;   i32 sum[nb] at +nb*36 (sum of the block's qs, used to fold Q4_0's "-8" offset out of the inner loop).
;; K-quants (Q4_K 144 bytes, Q6_K 210 bytes per 256 values) run against a Q8_K activation buffer (quantize_q8_k:
;;   i8 qs[n] | i16 bsums[n/16] | f32 d[n/256]); "wide" buffers (widen_q8_0, widen_q8_k) hold the same activations
;;   as i16 in a permuted order for the plain-SIMD *_w kernels. matmul_* run several tokens per weight pass (prefill).
;; Integer block sums are exact in both variants and combined in one fixed float order, so the plain and
;; relaxed builds (and the *_w kernels) give bit-identical quantized mat-vec outputs, and any row split gives the
;; same rows.
;; f16 scales must be finite (Inf/NaN f16 scales are not decoded).
;; Bytes per block of the weight formats (ggml's block sizes; io.earnidle.node.gguf.GgmlType is the source and
;; GgmlFormatsTest checks these against it); the build (wat/build.mjs) puts the values in place of the tokens.
;;#const Q4_0_BYTES 18
;;#const Q8_0_BYTES 34
;;#const Q4_K_BYTES 144
;;#const Q6_K_BYTES 210
(module
  (import "env" "memory" (memory $mem 1 65536 $$SHARED$$))

  ;; ---------------------------------------------------------------- helpers

  (func $h2f (param $h i32) (result f32)
    (f32.reinterpret_i32
      (i32.or
        (select
          ;; zero or subnormal: m * 2^-24, exact (no subnormal operand: those take a slow microcode path)
          (i32.reinterpret_f32 (f32.mul (f32.convert_i32_u (i32.and (local.get $h) (i32.const 0x3ff))) (f32.const 0x1p-24)))
          ;; normal: the exponent rebiased from 15 to 127
          (i32.add (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)) (i32.const 0x38000000))
          (i32.eqz (i32.and (local.get $h) (i32.const 0x7c00))))
        (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16)))))

  ;; f32 -> f16 bits, round to nearest even (ggml's portable GGML_FP32_TO_FP16).
  (func $f2h (export "f32_to_f16") (param $f f32) (result i32)
    (local $w i32) (local $shl1 i32) (local $bias i32) (local $base f32) (local $bits i32)
    (local.set $base
      (f32.mul (f32.mul (f32.abs (local.get $f)) (f32.const 0x1p112)) (f32.const 0x1p-110)))
    (local.set $w (i32.reinterpret_f32 (local.get $f)))
    (local.set $shl1 (i32.add (local.get $w) (local.get $w)))
    (local.set $bias (i32.and (local.get $shl1) (i32.const 0xff000000)))
    (if (i32.lt_u (local.get $bias) (i32.const 0x71000000))
      (then (local.set $bias (i32.const 0x71000000))))
    (local.set $base
      (f32.add (f32.reinterpret_i32 (i32.add (i32.shr_u (local.get $bias) (i32.const 1)) (i32.const 0x07800000)))
               (local.get $base)))
    (local.set $bits (i32.reinterpret_f32 (local.get $base)))
    (i32.or
      (i32.shr_u (i32.and (local.get $w) (i32.const 0x80000000)) (i32.const 16))
      (select (i32.const 0x7e00)
              (i32.add (i32.and (i32.shr_u (local.get $bits) (i32.const 13)) (i32.const 0x7c00))
                       (i32.and (local.get $bits) (i32.const 0x0fff)))
              (i32.gt_u (local.get $shl1) (i32.const 0xff000000)))))

  (func $hsum_i32 (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  (func $hsum_f32 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; ---------------------------------------------------------------- Q8_0 activation quantization

  ;; round(v * id) with ties away from zero (C roundf), as i32x4.
  (func $q8_round4 (param $v v128) (param $id v128) (result v128)
    (local $m v128) (local $t v128)
    (local.set $m (f32x4.mul (local.get $v) (local.get $id)))
    (local.set $t (f32x4.trunc (local.get $m)))
    (i32x4.trunc_sat_f32x4_s
      (f32x4.add (local.get $t)
        (v128.and
          (f32x4.ge (f32x4.abs (f32x4.sub (local.get $m) (local.get $t))) (v128.const f32x4 0.5 0.5 0.5 0.5))
          (v128.or (v128.const f32x4 1 1 1 1)
                   (v128.and (local.get $m) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))))))

  ;; Quantizes n f32 (n a multiple of 32) at x_ptr into the Q8 activation buffer at y_ptr, exactly like
  ;; ggml's quantize_row_q8_0_ref: d = amax/127, id = d ? 1/d : 0, qs = roundf(x*id), stored d = f16(d).
  (func (export "quantize_q8_0") (param $x i32) (param $y i32) (param $n i32)
    (local $nb i32) (local $b i32) (local $dp i32) (local $sp i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128)
    (local $mx v128) (local $amax f32) (local $d f32) (local $idv v128) (local $h i32)
    (local $i0 v128) (local $i1 v128) (local $i2 v128) (local $i3 v128)
    (local $i4 v128) (local $i5 v128) (local $i6 v128) (local $i7 v128)
    (local.set $nb (i32.shr_u (local.get $n) (i32.const 5)))
    (local.set $dp (i32.add (local.get $y) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $sp (i32.add (local.get $dp) (i32.shl (local.get $nb) (i32.const 2))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $v0 (v128.load offset=0 (local.get $x)))
        (local.set $v1 (v128.load offset=16 (local.get $x)))
        (local.set $v2 (v128.load offset=32 (local.get $x)))
        (local.set $v3 (v128.load offset=48 (local.get $x)))
        (local.set $v4 (v128.load offset=64 (local.get $x)))
        (local.set $v5 (v128.load offset=80 (local.get $x)))
        (local.set $v6 (v128.load offset=96 (local.get $x)))
        (local.set $v7 (v128.load offset=112 (local.get $x)))
        (local.set $mx
          (f32x4.max
            (f32x4.max (f32x4.max (f32x4.abs (local.get $v0)) (f32x4.abs (local.get $v1)))
                       (f32x4.max (f32x4.abs (local.get $v2)) (f32x4.abs (local.get $v3))))
            (f32x4.max (f32x4.max (f32x4.abs (local.get $v4)) (f32x4.abs (local.get $v5)))
                       (f32x4.max (f32x4.abs (local.get $v6)) (f32x4.abs (local.get $v7))))))
        (local.set $amax
          (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
                   (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (local.set $d (f32.div (local.get $amax) (f32.const 127)))
        (local.set $idv
          (f32x4.splat (select (f32.div (f32.const 1) (local.get $d)) (f32.const 0)
                               (f32.ne (local.get $d) (f32.const 0)))))
        (local.set $h (call $f2h (local.get $d)))
        (f32.store (local.get $dp) (call $h2f (local.get $h)))
        (local.set $i0 (call $q8_round4 (local.get $v0) (local.get $idv)))
        (local.set $i1 (call $q8_round4 (local.get $v1) (local.get $idv)))
        (local.set $i2 (call $q8_round4 (local.get $v2) (local.get $idv)))
        (local.set $i3 (call $q8_round4 (local.get $v3) (local.get $idv)))
        (local.set $i4 (call $q8_round4 (local.get $v4) (local.get $idv)))
        (local.set $i5 (call $q8_round4 (local.get $v5) (local.get $idv)))
        (local.set $i6 (call $q8_round4 (local.get $v6) (local.get $idv)))
        (local.set $i7 (call $q8_round4 (local.get $v7) (local.get $idv)))
        (v128.store offset=0 (local.get $y)
          (i8x16.narrow_i16x8_s
            (i16x8.narrow_i32x4_s (local.get $i0) (local.get $i1))
            (i16x8.narrow_i32x4_s (local.get $i2) (local.get $i3))))
        (v128.store offset=16 (local.get $y)
          (i8x16.narrow_i16x8_s
            (i16x8.narrow_i32x4_s (local.get $i4) (local.get $i5))
            (i16x8.narrow_i32x4_s (local.get $i6) (local.get $i7))))
        (i32.store (local.get $sp)
          (call $hsum_i32
            (i32x4.add
              (i32x4.add (i32x4.add (local.get $i0) (local.get $i1)) (i32x4.add (local.get $i2) (local.get $i3)))
              (i32x4.add (i32x4.add (local.get $i4) (local.get $i5)) (i32x4.add (local.get $i6) (local.get $i7))))))
        (local.set $x (i32.add (local.get $x) (i32.const 128)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks))))

;; ---------------------------------------------------------------- hand-inlined hot-loop pieces
;; (build.mjs macros; they use the locals $wp $xp $q $lo $hi $y0 $y1 $w0 $w1 $ab $cd $hv of the expanding function)

;; {OUT} = i32x4 whose lane total is sum_j nib_j * y_j over the Q4_0 block at $wp+{W} (nibbles unsigned 0..15;
;; the "-8" is applied later with the activation block sum) and the activation block at $xp+{X}.
;; The lane split differs between variants, lane totals do not.
;; (hi nibbles as i16 shift + mask: V8 lowers i8x16.shr_u to a shift plus a rebuilt mask, 5 instructions)
;;#macro BLK_Q4_0
        (local.set $q (v128.load offset={W} align=1 (local.get $wp)))
        (local.set $lo (v128.and (local.get $q) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $y0 (v128.load offset={X} (local.get $xp)))
        (local.set $y1 (v128.load offset={X16} (local.get $xp)))
;;#if RELAXED
        ;; the second operand (0..15) fits relaxed_dot's 7-bit requirement: exact and deterministic everywhere.
        ;; (Kept as i32 dot-add: Chromium lowers it to one AVX-VNNI vpdpbusd where the CPU has it; the i16 form is
        ;; faster only without VNNI.)
        (local.set {OUT}
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y1) (local.get $hi)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y0) (local.get $lo) (v128.const i32x4 0 0 0 0))))
;;#else
        ;; 4 * 15 * 127 < 2^15: the i16 sums of products cannot overflow
        (local.set {OUT}
          (i32x4.extadd_pairwise_i16x8_s
            (i16x8.add
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $y0))
                         (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $y0)))
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $hi) (local.get $y1))
                         (i16x8.extmul_high_i8x16_s (local.get $hi) (local.get $y1))))))
;;#endif
;;#endmacro

;; Same as BLK_Q4_0 for the block at {P}+{W}, with the activation halves already in locals {Y0} and {Y1}.
;;#macro BLK_Q4_0_Y
        (local.set $q (v128.load offset={W} align=1 (local.get {P})))
        (local.set $lo (v128.and (local.get $q) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
;;#if RELAXED
        (local.set {OUT}
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get {Y1}) (local.get $hi)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get {Y0}) (local.get $lo) (v128.const i32x4 0 0 0 0))))
;;#else
        (local.set {OUT}
          (i32x4.extadd_pairwise_i16x8_s
            (i16x8.add
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get {Y0}))
                         (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get {Y0})))
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $hi) (local.get {Y1}))
                         (i16x8.extmul_high_i8x16_s (local.get $hi) (local.get {Y1}))))))
;;#endif
;;#endmacro

;; Per-block tail of one Q4_0 row at {P} (blocks [$b, $nb), activations from $xp): {TAIL} += terms, in the
;; same float order as the single-row path so both paths give bit-identical rows.
;;#macro TAIL_Q4_0
        (block $tail_done
          (loop $tail_loop
            (br_if $tail_done (i32.ge_u (local.get $b) (local.get $nb)))
            (local.set $q (v128.load offset=2 align=1 (local.get {P})))
            (local.set $y0 (v128.load offset=0 (local.get $xp)))
            (local.set $y1 (v128.load offset=16 (local.get $xp)))
;;@BLK_Q4_0_Y OUT=$s0 P={P} W=2 Y0=$y0 Y1=$y1
            (local.set {TAIL}
              (f32.add (local.get {TAIL})
                (f32.mul
                  (f32.convert_i32_s
                    (i32.sub (call $hsum_i32 (local.get $s0))
                             (i32.shl (i32.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2))))
                                      (i32.const 3))))
                  (f32.mul (call $h2f (i32.load16_u (local.get {P})))
                           (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set {P} (i32.add (local.get {P}) (i32.const $$Q4_0_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
;;#endmacro

;; Same for a Q8_0 block (weights may hold any i8, -128 included).
;;#macro BLK_Q8_0
        (local.set $w0 (v128.load offset={W2} align=1 (local.get $wp)))
        (local.set $w1 (v128.load offset={W18} align=1 (local.get $wp)))
        (local.set $y0 (v128.load offset={X} (local.get $xp)))
        (local.set $y1 (v128.load offset={X16} (local.get $xp)))
;;#if RELAXED
        ;; w = (w & 127) - 128 * (w >>> 7): both parts are 7-bit, so relaxed_dot is exact and deterministic
        (local.set {OUT}
          (i32x4.sub
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y1)
              (v128.and (local.get $w1) (v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127))
              (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y0)
                (v128.and (local.get $w0) (v128.const i8x16 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127 127))
                (v128.const i32x4 0 0 0 0)))
            (i32x4.shl
              (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y1) (v128.and (i16x8.shr_u (local.get $w1) (i32.const 7)) (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y0) (v128.and (i16x8.shr_u (local.get $w0) (i32.const 7)) (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
                  (v128.const i32x4 0 0 0 0)))
              (i32.const 7))))
;;#else
        ;; 2 * 128 * 127 < 2^15: pairs of i16 products cannot overflow
        (local.set {OUT}
          (i32x4.add
            (i32x4.extadd_pairwise_i16x8_s
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $w0) (local.get $y0))
                         (i16x8.extmul_high_i8x16_s (local.get $w0) (local.get $y0))))
            (i32x4.extadd_pairwise_i16x8_s
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $w1) (local.get $y1))
                         (i16x8.extmul_high_i8x16_s (local.get $w1) (local.get $y1))))))
;;#endif
;;#endmacro

;; {OUT} = [sum($s0), sum($s1), sum($s2), sum($s3)] (i32 lanes)
;;#macro REDUCE4
        (local.set $ab
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s0) (local.get $s1))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s0) (local.get $s1))))
        (local.set $cd
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s2) (local.get $s3))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s2) (local.get $s3))))
        (local.set {OUT}
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ab) (local.get $cd))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ab) (local.get $cd))))
;;#endmacro

;; {OUT} = f32x4 of the f16 bits in the i32 lanes of local {H} (finite values), as $h2f: normal values by
;; rebiasing the exponent; zero and subnormal ones as 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, so that no
;; subnormal f32 ever enters an arithmetic op (x86 takes a slow microcode assist for those: Q6_K scales of
;; real-sized weights are subnormal f16).
;;#macro H2F_LANES
        (local.set {OUT}
          (v128.or
            (f32x4.sub
              (i32x4.add
                (i32x4.add (i32x4.shl (v128.and (local.get {H}) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
                           (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000))
                (v128.and (i32x4.eq (v128.and (local.get {H}) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)) (v128.const i32x4 0 0 0 0))
                          (v128.const i32x4 0x00800000 0x00800000 0x00800000 0x00800000)))
              (v128.and (i32x4.eq (v128.and (local.get {H}) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)) (v128.const i32x4 0 0 0 0))
                        (v128.const f32x4 0x1p-14 0x1p-14 0x1p-14 0x1p-14)))
            (i32x4.shl (v128.and (local.get {H}) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))
;;#endmacro

;; {OUT} = f32x4 of the f16 bits in the i32 lanes of local {H} (finite values), as H2F_LANES, in 6 ops and one
;; constant: the 15 magnitude bits moved to f32 bits 27..13 (shifts, no mask constants, which V8 rebuilds inside
;; loops) times 2^112, then the sign. Exact for every finite f16, but a subnormal f16 puts a subnormal f32 into the
;; multiply (an x86 microcode assist): only for data that has none (repack_q4_0x4 counts them).
;;#macro H2F_MUL_LANES
        (local.set {OUT}
          (v128.or
            (f32x4.mul (i32x4.shr_u (i32x4.shl (local.get {H}) (i32.const 17)) (i32.const 4))
                       (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
            (i32x4.shl (i32x4.shr_u (local.get {H}) (i32.const 15)) (i32.const 31))))
;;#endmacro

;; {OUT} = f32x4 of the f16 scales at {P}+0, {P}+{S1}, {P}+{S2}, {P}+{S3}
;;#macro H2F4
        (local.set $hv (v128.load16_lane offset=0 0 (local.get {P}) (v128.const i32x4 0 0 0 0)))
        (local.set $hv (v128.load16_lane offset={S1} 2 (local.get {P}) (local.get $hv)))
        (local.set $hv (v128.load16_lane offset={S2} 4 (local.get {P}) (local.get $hv)))
        (local.set $hv (v128.load16_lane offset={S3} 6 (local.get {P}) (local.get $hv)))
;;@H2F_LANES OUT={OUT} H=$hv
;;#endmacro

  ;; f16 bits -> f32 for n values (n a multiple of 4) from u16 at in_ptr to f32 at out_ptr, the kernels' vector
  ;; conversion (H2F_LANES); f16_to_f32 is the scalar one ($h2f). Exported for the tests.
  (func (export "f16_to_f32") (param $h i32) (result f32) (call $h2f (local.get $h)))
  (func (export "f16_to_f32_array") (param $in i32) (param $out i32) (param $n i32)
    (local $i i32) (local $hv v128) (local $f v128)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $hv (i32x4.extend_low_i16x8_u
        (v128.load64_zero (i32.add (local.get $in) (i32.shl (local.get $i) (i32.const 1))))))
;;@H2F_LANES OUT=$f H=$hv
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $f))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l))))

  ;; ---------------------------------------------------------------- Q4_0 x Q8_0

  ;; out[r] = dot(row r of the Q4_0 matrix at w_ptr, activations) for r in [rows_from, rows_to);
  ;; x_q8_ptr is a Q8 activation buffer of cols values (cols a multiple of 32).
  (func $matvec_q4_0_q8_0 (export "matvec_q4_0_q8_0")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $nb4 i32) (local $stride i32) (local $xd i32) (local $xs i32)
    (local $row i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $acc v128) (local $t v128) (local $sc v128) (local $tail f32)
    (local $q v128) (local $lo v128) (local $hi v128) (local $y0 v128) (local $y1 v128) (local $w0 v128) (local $w1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $hv v128)
    (local $wp2 i32) (local $b0 i32) (local $xp0 i32) (local $acc2 v128) (local $t2 v128) (local $tail2 f32) (local $xsv v128) (local $xdv v128)
    (local $y2 v128) (local $y3 v128) (local $y4 v128) (local $y5 v128) (local $y6 v128) (local $y7 v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $nb4 (i32.and (local.get $nb) (i32.const -4)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q4_0_BYTES$$)))
    (local.set $xd (i32.add (local.get $x_ptr) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $xs (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $row (local.get $r0))
    ;; two rows at a time: the activation loads and scale vectors are shared by both rows
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.gt_u (i32.add (local.get $row) (i32.const 2)) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $wp2 (i32.add (local.get $wp) (local.get $stride)))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $tail2 (f32.const 0))
        (local.set $b (i32.const 0))
        (block $q2_done
          (loop $q2
            (br_if $q2_done (i32.ge_u (local.get $b) (local.get $nb4)))
            (local.set $y0 (v128.load offset=0 (local.get $xp)))
            (local.set $y1 (v128.load offset=16 (local.get $xp)))
            (local.set $y2 (v128.load offset=32 (local.get $xp)))
            (local.set $y3 (v128.load offset=48 (local.get $xp)))
            (local.set $y4 (v128.load offset=64 (local.get $xp)))
            (local.set $y5 (v128.load offset=80 (local.get $xp)))
            (local.set $y6 (v128.load offset=96 (local.get $xp)))
            (local.set $y7 (v128.load offset=112 (local.get $xp)))
            (local.set $xsv (i32x4.shl (v128.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))
            (local.set $xdv (v128.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2)))))
;;@BLK_Q4_0_Y OUT=$s0 P=$wp W=2 Y0=$y0 Y1=$y1
;;@BLK_Q4_0_Y OUT=$s1 P=$wp W=20 Y0=$y2 Y1=$y3
;;@BLK_Q4_0_Y OUT=$s2 P=$wp W=38 Y0=$y4 Y1=$y5
;;@BLK_Q4_0_Y OUT=$s3 P=$wp W=56 Y0=$y6 Y1=$y7
;;@REDUCE4 OUT=$t
;;@BLK_Q4_0_Y OUT=$s0 P=$wp2 W=2 Y0=$y0 Y1=$y1
;;@BLK_Q4_0_Y OUT=$s1 P=$wp2 W=20 Y0=$y2 Y1=$y3
;;@BLK_Q4_0_Y OUT=$s2 P=$wp2 W=38 Y0=$y4 Y1=$y5
;;@BLK_Q4_0_Y OUT=$s3 P=$wp2 W=56 Y0=$y6 Y1=$y7
;;@REDUCE4 OUT=$t2
;;@H2F4 OUT=$sc P=$wp S1=18 S2=36 S3=54
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $t) (local.get $xsv)))
                  (f32x4.mul (local.get $sc) (local.get $xdv)))))
;;@H2F4 OUT=$sc P=$wp2 S1=18 S2=36 S3=54
            (local.set $acc2
              (f32x4.add (local.get $acc2)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $t2) (local.get $xsv)))
                  (f32x4.mul (local.get $sc) (local.get $xdv)))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 72)))
            (local.set $wp2 (i32.add (local.get $wp2) (i32.const 72)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 128)))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $q2)))
        (local.set $b0 (local.get $b))
        (local.set $xp0 (local.get $xp))
;;@TAIL_Q4_0 P=$wp TAIL=$tail
        (local.set $b (local.get $b0))
        (local.set $xp (local.get $xp0))
;;@TAIL_Q4_0 P=$wp2 TAIL=$tail2
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (f32.store offset=4 (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc2)) (local.get $tail2)))
        (local.set $row (i32.add (local.get $row) (i32.const 2)))
        (br $pairs)))
    ;; the last odd row
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $b (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $b) (local.get $nb4)))
;;@BLK_Q4_0 OUT=$s0 W=2 X=0 X16=16
;;@BLK_Q4_0 OUT=$s1 W=20 X=32 X16=48
;;@BLK_Q4_0 OUT=$s2 W=38 X=64 X16=80
;;@BLK_Q4_0 OUT=$s3 W=56 X=96 X16=112
;;@REDUCE4 OUT=$t
;;@H2F4 OUT=$sc P=$wp S1=18 S2=36 S3=54
            (local.set $t
              (i32x4.sub (local.get $t)
                (i32x4.shl (v128.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3))))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.convert_i32x4_s (local.get $t))
                  (f32x4.mul (local.get $sc)
                             (v128.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 72)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 128)))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $quads)))
        (block $tail_done
          (loop $tail_loop
            (br_if $tail_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@BLK_Q4_0 OUT=$s0 W=2 X=0 X16=16
            (local.set $tail
              (f32.add (local.get $tail)
                (f32.mul
                  (f32.convert_i32_s
                    (i32.sub (call $hsum_i32 (local.get $s0))
                             (i32.shl (i32.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2))))
                                      (i32.const 3))))
                  (f32.mul (call $h2f (i32.load16_u (local.get $wp)))
                           (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q4_0_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- Q8_0 x Q8_0

  (func $matvec_q8_0_q8_0 (export "matvec_q8_0_q8_0")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $nb4 i32) (local $stride i32) (local $xd i32)
    (local $row i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $acc v128) (local $t v128) (local $sc v128) (local $tail f32)
    (local $q v128) (local $lo v128) (local $hi v128) (local $y0 v128) (local $y1 v128) (local $w0 v128) (local $w1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $hv v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $nb4 (i32.and (local.get $nb) (i32.const -4)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q8_0_BYTES$$)))
    (local.set $xd (i32.add (local.get $x_ptr) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $b (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $b) (local.get $nb4)))
;;@BLK_Q8_0 OUT=$s0 W2=2 W18=18 X=0 X16=16
;;@BLK_Q8_0 OUT=$s1 W2=36 W18=52 X=32 X16=48
;;@BLK_Q8_0 OUT=$s2 W2=70 W18=86 X=64 X16=80
;;@BLK_Q8_0 OUT=$s3 W2=104 W18=120 X=96 X16=112
;;@REDUCE4 OUT=$t
;;@H2F4 OUT=$sc P=$wp S1=34 S2=68 S3=102
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.convert_i32x4_s (local.get $t))
                  (f32x4.mul (local.get $sc)
                             (v128.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 136)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 128)))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $quads)))
        (block $tail_done
          (loop $tail_loop
            (br_if $tail_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@BLK_Q8_0 OUT=$s0 W2=2 W18=18 X=0 X16=16
            (local.set $tail
              (f32.add (local.get $tail)
                (f32.mul
                  (f32.convert_i32_s (call $hsum_i32 (local.get $s0)))
                  (f32.mul (call $h2f (i32.load16_u (local.get $wp)))
                           (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q8_0_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- wide Q8_0 activations (plain-SIMD fast path)
  ;;
  ;; Plain SIMD128 has no u8 x i8 pairwise dot, so the *_w mat-vecs work in i16 lanes: each 16-byte weight chunk is
  ;; read as eight i16 lanes, the nibbles (or bytes) are isolated with native 16-bit shifts and masks, and
  ;; i32x4.dot_i16x8_s multiplies them with activations that were widened to i16 and permuted once per mat-vec.
  ;; Wide Q8 activation buffer for n values (nb = n/32 blocks, nb*72 bytes), written by widen_q8_0 from a Q8
  ;; activation buffer: i16 qs[nb*32] at +0, per block the four 8-lane slots
  ;;   [x0 x2 .. x14] [x16 x18 .. x30] [x1 x3 .. x15] [x17 x19 .. x31]
  ;; (the order in which the i16 lanes of a Q4_0 chunk hold low nibbles of even bytes, high nibbles of even bytes,
  ;; low nibbles of odd bytes, high nibbles of odd bytes) | f32 d[nb] at +nb*64 | i32 sum[nb] at +nb*68.
  ;; The integer block sums are the same exact numbers, and the float sequence is the one of matvec_q4_0_q8_0 /
  ;; matvec_q8_0_q8_0, so the *_w kernels give bit-identical outputs to them (tests assert it).
  (func (export "widen_q8_0") (param $xq i32) (param $xw i32) (param $n i32)
    (local $nb i32) (local $b i32) (local $a v128) (local $c v128) (local $p i32) (local $o i32)
    (local.set $nb (i32.shr_u (local.get $n) (i32.const 5)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $b) (local.get $nb)))
      (local.set $p (i32.add (local.get $xq) (i32.shl (local.get $b) (i32.const 5))))
      (local.set $o (i32.add (local.get $xw) (i32.shl (local.get $b) (i32.const 6))))
      (local.set $a (v128.load offset=0 align=1 (local.get $p)))
      (local.set $c (v128.load offset=16 align=1 (local.get $p)))
      (v128.store offset=0 align=1 (local.get $o) (i16x8.shr_s (i16x8.shl (local.get $a) (i32.const 8)) (i32.const 8)))
      (v128.store offset=16 align=1 (local.get $o) (i16x8.shr_s (i16x8.shl (local.get $c) (i32.const 8)) (i32.const 8)))
      (v128.store offset=32 align=1 (local.get $o) (i16x8.shr_s (local.get $a) (i32.const 8)))
      (v128.store offset=48 align=1 (local.get $o) (i16x8.shr_s (local.get $c) (i32.const 8)))
      ;; the f32 d[] and i32 sum[] arrays follow the qs in both layouts: copy them as 2*nb words
      (i32.store (i32.add (i32.add (local.get $xw) (i32.shl (local.get $nb) (i32.const 6))) (i32.shl (local.get $b) (i32.const 2)))
        (i32.load (i32.add (i32.add (local.get $xq) (i32.shl (local.get $nb) (i32.const 5))) (i32.shl (local.get $b) (i32.const 2)))))
      (i32.store (i32.add (i32.add (local.get $xw) (i32.mul (local.get $nb) (i32.const 68))) (i32.shl (local.get $b) (i32.const 2)))
        (i32.load (i32.add (i32.add (local.get $xq) (i32.mul (local.get $nb) (i32.const 36))) (i32.shl (local.get $b) (i32.const 2)))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $l))))

;; {OUT} = i32x4 whose lane total is sum_j nib_j * y_j for the Q4_0 block at $wp+{W} (nibbles 0..15) and the wide
;; activation block at $xp+{X0}.. ({X16} {X32} {X48} = the next slots).
;;#macro BLK_Q4_0_W
        (local.set $q (v128.load offset={W} align=1 (local.get $wp)))
        (local.set {OUT}
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $q) (v128.const i16x8 15 15 15 15 15 15 15 15))
                                 (v128.load offset={X0} (local.get $xp)))
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (v128.const i16x8 15 15 15 15 15 15 15 15))
                                 (v128.load offset={X16} (local.get $xp))))
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $q) (i32.const 8)) (v128.const i16x8 15 15 15 15 15 15 15 15))
                                 (v128.load offset={X32} (local.get $xp)))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $q) (i32.const 12))
                                 (v128.load offset={X48} (local.get $xp))))))
;;#endmacro

;; Same for a Q8_0 block at $wp+{W2} (bytes 0..15) and $wp+{W18} (bytes 16..31): even bytes sign-extended by a
;; 16-bit shift pair, odd bytes by an arithmetic shift.
;;#macro BLK_Q8_0_W
        (local.set $w0 (v128.load offset={W2} align=1 (local.get $wp)))
        (local.set $w1 (v128.load offset={W18} align=1 (local.get $wp)))
        (local.set {OUT}
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $w0) (i32.const 8)) (i32.const 8))
                                 (v128.load offset={X0} (local.get $xp)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w0) (i32.const 8))
                                 (v128.load offset={X32} (local.get $xp))))
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shr_s (i16x8.shl (local.get $w1) (i32.const 8)) (i32.const 8))
                                 (v128.load offset={X16} (local.get $xp)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w1) (i32.const 8))
                                 (v128.load offset={X48} (local.get $xp))))))
;;#endmacro

  ;; matvec_q4_0_q8_0 on a wide activation buffer (widen_q8_0); same arguments, bit-identical outputs.
  (func $matvec_q4_0_q8_0w (export "matvec_q4_0_q8_0w")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $nb4 i32) (local $stride i32) (local $xd i32) (local $xs i32)
    (local $row i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $acc v128) (local $t v128) (local $sc v128) (local $tail f32) (local $q v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $hv v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $nb4 (i32.and (local.get $nb) (i32.const -4)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q4_0_BYTES$$)))
    (local.set $xd (i32.add (local.get $x_ptr) (i32.shl (local.get $nb) (i32.const 6))))
    (local.set $xs (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $b (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $b) (local.get $nb4)))
;;@BLK_Q4_0_W OUT=$s0 W=2 X0=0 X16=16 X32=32 X48=48
;;@BLK_Q4_0_W OUT=$s1 W=20 X0=64 X16=80 X32=96 X48=112
;;@BLK_Q4_0_W OUT=$s2 W=38 X0=128 X16=144 X32=160 X48=176
;;@BLK_Q4_0_W OUT=$s3 W=56 X0=192 X16=208 X32=224 X48=240
;;@REDUCE4 OUT=$t
;;@H2F4 OUT=$sc P=$wp S1=18 S2=36 S3=54
            (local.set $t
              (i32x4.sub (local.get $t)
                (i32x4.shl (v128.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3))))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.convert_i32x4_s (local.get $t))
                  (f32x4.mul (local.get $sc)
                             (v128.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 72)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 256)))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $quads)))
        (block $tail_done
          (loop $tail_loop
            (br_if $tail_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@BLK_Q4_0_W OUT=$s0 W=2 X0=0 X16=16 X32=32 X48=48
            (local.set $tail
              (f32.add (local.get $tail)
                (f32.mul
                  (f32.convert_i32_s
                    (i32.sub (call $hsum_i32 (local.get $s0))
                             (i32.shl (i32.load (i32.add (local.get $xs) (i32.shl (local.get $b) (i32.const 2))))
                                      (i32.const 3))))
                  (f32.mul (call $h2f (i32.load16_u (local.get $wp)))
                           (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q4_0_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; matvec_q8_0_q8_0 on a wide activation buffer (widen_q8_0); same arguments, bit-identical outputs.
  (func $matvec_q8_0_q8_0w (export "matvec_q8_0_q8_0w")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $nb4 i32) (local $stride i32) (local $xd i32)
    (local $row i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $acc v128) (local $t v128) (local $sc v128) (local $tail f32) (local $w0 v128) (local $w1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $hv v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $nb4 (i32.and (local.get $nb) (i32.const -4)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q8_0_BYTES$$)))
    (local.set $xd (i32.add (local.get $x_ptr) (i32.shl (local.get $nb) (i32.const 6))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $tail (f32.const 0))
        (local.set $b (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $b) (local.get $nb4)))
;;@BLK_Q8_0_W OUT=$s0 W2=2 W18=18 X0=0 X16=16 X32=32 X48=48
;;@BLK_Q8_0_W OUT=$s1 W2=36 W18=52 X0=64 X16=80 X32=96 X48=112
;;@BLK_Q8_0_W OUT=$s2 W2=70 W18=86 X0=128 X16=144 X32=160 X48=176
;;@BLK_Q8_0_W OUT=$s3 W2=104 W18=120 X0=192 X16=208 X32=224 X48=240
;;@REDUCE4 OUT=$t
;;@H2F4 OUT=$sc P=$wp S1=34 S2=68 S3=102
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (f32x4.convert_i32x4_s (local.get $t))
                  (f32x4.mul (local.get $sc)
                             (v128.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 136)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 256)))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $quads)))
        (block $tail_done
          (loop $tail_loop
            (br_if $tail_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@BLK_Q8_0_W OUT=$s0 W2=2 W18=18 X0=0 X16=16 X32=32 X48=48
            (local.set $tail
              (f32.add (local.get $tail)
                (f32.mul
                  (f32.convert_i32_s (call $hsum_i32 (local.get $s0)))
                  (f32.mul (call $h2f (i32.load16_u (local.get $wp)))
                           (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q8_0_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- Q4_0 in the 4-row interleaved layout ("x4")
  ;;
  ;; repack_q4_0x4 rearranges a Q4_0 matrix in place (rows a multiple of 4, cols a multiple of 128) so that one
  ;; 16-byte load holds 4 bytes of each of 4 rows: the i32 lanes of a relaxed dot against 4 activation bytes
  ;; broadcast to all lanes are then 4 rows' partial sums, and a block needs no horizontal reduction. Rows 4g..4g+3
  ;; keep their bytes [4g*rowBytes, (4g+4)*rowBytes) and are stored as nb/2 super-blocks of 144 bytes, one per
  ;; pair of blocks (2s, 2s+1):
  ;;   +0: f16 d of block 2s for rows 0..3 | +8: f16 d of block 2s+1 for rows 0..3 |
  ;;   +16 + 64*k + 16*m + 4*i: qs[4m .. 4m+3] of row i, block 2s+k   (k in 0..1, m in 0..3, i in 0..3).
  ;; matvec_q4_0x4_q8_0 gives bit-identical outputs to matvec_q4_0_q8_0 on the original layout: the integer block
  ;; sums are exact, and the float sequence is the same (accumulator j of a row holds the blocks b = j mod 4 in
  ;; order, then (a0 + a1) + (a2 + a3) + 0) - only the lanes hold rows instead of block residues.

  ;; In place; tmp_ptr: scratch of 4 rows (cols/32*72 bytes). Returns how many scales are subnormal f16 (0: the
  ;; matrix may use matvec_q4_0x4_q8_0_nosub).
  (func (export "repack_q4_0x4") (param $w_ptr i32) (param $rows i32) (param $cols i32) (param $tmp i32) (result i32)
    (local $nb i32) (local $gs i32) (local $g i32) (local $src i32) (local $dst i32) (local $b i32) (local $i i32)
    (local $m i32) (local $rs i32) (local $blk i32) (local $d i32) (local $sub i32)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $rs (i32.mul (local.get $nb) (i32.const $$Q4_0_BYTES$$)))
    (local.set $gs (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $g (local.get $w_ptr))
    (block $done (loop $groups
      (br_if $done (i32.ge_u (local.get $g) (i32.add (local.get $w_ptr) (i32.mul (local.get $rows) (local.get $rs)))))
      (memory.copy (local.get $tmp) (local.get $g) (local.get $gs))
      (local.set $b (i32.const 0))
      (block $bdone (loop $blocks
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $nb)))
        ;; destination of block b: super-block b/2, half b%2
        (local.set $dst (i32.add (local.get $g) (i32.mul (i32.shr_u (local.get $b) (i32.const 1)) (i32.const 144))))
        (local.set $i (i32.const 0))
        (block $idone (loop $rowsl
          (br_if $idone (i32.ge_u (local.get $i) (i32.const 4)))
          (local.set $blk (i32.add (local.get $tmp)
            (i32.add (i32.mul (local.get $i) (local.get $rs)) (i32.mul (local.get $b) (i32.const $$Q4_0_BYTES$$)))))
          (local.set $d (i32.load16_u (local.get $blk)))
          (local.set $sub (i32.add (local.get $sub)
            (i32.and (i32.eqz (i32.and (local.get $d) (i32.const 0x7c00))) (i32.ne (i32.and (local.get $d) (i32.const 0x3ff)) (i32.const 0)))))
          (i32.store16
            (i32.add (local.get $dst) (i32.add (i32.shl (i32.and (local.get $b) (i32.const 1)) (i32.const 3))
                                               (i32.shl (local.get $i) (i32.const 1))))
            (local.get $d))
          (local.set $m (i32.const 0))
          (block $mdone (loop $chunks
            (br_if $mdone (i32.ge_u (local.get $m) (i32.const 4)))
            (i32.store
              (i32.add (local.get $dst)
                (i32.add (i32.add (i32.const 16) (i32.shl (i32.and (local.get $b) (i32.const 1)) (i32.const 6)))
                         (i32.add (i32.shl (local.get $m) (i32.const 4)) (i32.shl (local.get $i) (i32.const 2)))))
              (i32.load offset=2 align=1 (i32.add (local.get $blk) (i32.shl (local.get $m) (i32.const 2)))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $chunks)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rowsl)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks)))
      (local.set $g (i32.add (local.get $g) (local.get $gs)))
      (br $groups)))
    (local.get $sub))

  ;; Row `row` of an x4 matrix as f32 at out_ptr, the values of ggml's dequantize_row_q4_0 (d * (q - 8)).
  (func (export "dequant_row_q4_0x4") (param $w_ptr i32) (param $row i32) (param $cols i32) (param $out i32)
    (local $nb i32) (local $g i32) (local $i i32) (local $b i32) (local $j i32) (local $d f32) (local $q i32)
    (local $sb i32) (local $o i32)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $i (i32.and (local.get $row) (i32.const 3)))
    (local.set $g (i32.add (local.get $w_ptr) (i32.mul (i32.shr_u (local.get $row) (i32.const 2)) (i32.mul (local.get $nb) (i32.const 72)))))
    (block $bdone (loop $blocks
      (br_if $bdone (i32.ge_u (local.get $b) (local.get $nb)))
      (local.set $sb (i32.add (local.get $g) (i32.mul (i32.shr_u (local.get $b) (i32.const 1)) (i32.const 144))))
      (local.set $d (call $h2f (i32.load16_u
        (i32.add (local.get $sb) (i32.add (i32.shl (i32.and (local.get $b) (i32.const 1)) (i32.const 3))
                                          (i32.shl (local.get $i) (i32.const 1)))))))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 7))))
      (local.set $j (i32.const 0))
      (block $jdone (loop $vals
        (br_if $jdone (i32.ge_u (local.get $j) (i32.const 16)))
        (local.set $q (i32.load8_u
          (i32.add (local.get $sb)
            (i32.add (i32.add (i32.const 16) (i32.shl (i32.and (local.get $b) (i32.const 1)) (i32.const 6)))
                     (i32.add (i32.shl (i32.shr_u (local.get $j) (i32.const 2)) (i32.const 4))
                              (i32.add (i32.shl (local.get $i) (i32.const 2)) (i32.and (local.get $j) (i32.const 3))))))))
        (f32.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
          (f32.mul (f32.convert_i32_s (i32.sub (i32.and (local.get $q) (i32.const 15)) (i32.const 8))) (local.get $d)))
        (f32.store offset=64 (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
          (f32.mul (f32.convert_i32_s (i32.sub (i32.shr_u (local.get $q) (i32.const 4)) (i32.const 8))) (local.get $d)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $vals)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $blocks))))

;; One block of 4 interleaved rows (64 bytes at $p) against the Q8 activation block at $xp (its sum at $xsp, its
;; scale at $xdp): {ACC} += float(row sums - 8*sum) * (d_w * d_x) per row lane; then $p, $xp, $xsp, $xdp advance.
;;#macro BLK_Q4_0X4
;;#if RELAXED
        (local.set $q (v128.load offset=0 (local.get $p)))
        (local.set $ia
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=16 (local.get $xp))
            (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15))
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=0 (local.get $xp))
              (v128.and (local.get $q) (local.get $m15)) (v128.const i32x4 0 0 0 0))))
        (local.set $q (v128.load offset=16 (local.get $p)))
        (local.set $ia
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=20 (local.get $xp))
            (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15))
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=4 (local.get $xp))
              (v128.and (local.get $q) (local.get $m15)) (local.get $ia))))
        (local.set $q (v128.load offset=32 (local.get $p)))
        (local.set $ib
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=24 (local.get $xp))
            (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15))
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=8 (local.get $xp))
              (v128.and (local.get $q) (local.get $m15)) (v128.const i32x4 0 0 0 0))))
        (local.set $q (v128.load offset=48 (local.get $p)))
        (local.set $ib
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=28 (local.get $xp))
            (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15))
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=12 (local.get $xp))
              (v128.and (local.get $q) (local.get $m15)) (local.get $ib))))
        (local.set $ia (i32x4.add (local.get $ia) (local.get $ib)))
;;#else
        ;; i16 lanes: rows 0-1 in the low-half products, rows 2-3 in the high-half; 8 products of at most
        ;; 15 * 127 per lane sum below 2^15
        (local.set $ia (v128.const i32x4 0 0 0 0))
        (local.set $ib (v128.const i32x4 0 0 0 0))
;;@X4_PLAIN_CHUNK Q=0 XL=0 XH=16
;;@X4_PLAIN_CHUNK Q=16 XL=4 XH=20
;;@X4_PLAIN_CHUNK Q=32 XL=8 XH=24
;;@X4_PLAIN_CHUNK Q=48 XL=12 XH=28
        (local.set $ia (i32x4.extadd_pairwise_i16x8_s (local.get $ia)))
        (local.set $ib (i32x4.extadd_pairwise_i16x8_s (local.get $ib)))
        (local.set $ia
          (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ia) (local.get $ib))
                     (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ia) (local.get $ib))))
;;#endif
        (local.set {ACC}
          (f32x4.add (local.get {ACC})
            (f32x4.mul
              (f32x4.convert_i32x4_s
                (i32x4.sub (local.get $ia) (i32x4.shl (v128.load32_splat (local.get $xsp)) (i32.const 3))))
              (f32x4.mul (local.get {DW}) (v128.load32_splat (local.get $xdp))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
        (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
        (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
;;#endmacro

;; plain SIMD: one 16-byte chunk at $p+{Q} (4 bytes of each row) into the i16 sums $ia (rows 0-1) / $ib (rows 2-3)
;;#macro X4_PLAIN_CHUNK
        (local.set $q (v128.load offset={Q} (local.get $p)))
        (local.set $lo (v128.and (local.get $q) (local.get $m15)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15)))
        (local.set $al (v128.load32_splat offset={XL} (local.get $xp)))
        (local.set $ah (v128.load32_splat offset={XH} (local.get $xp)))
        (local.set $ia (i16x8.add (local.get $ia)
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $al))
                     (i16x8.extmul_low_i8x16_s (local.get $hi) (local.get $ah)))))
        (local.set $ib (i16x8.add (local.get $ib)
          (i16x8.add (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $al))
                     (i16x8.extmul_high_i8x16_s (local.get $hi) (local.get $ah)))))
;;#endmacro

;; The x4 mat-vec, {NAME} with scales converted by macro {H2F}.
;;#macro MATVEC_Q4_0X4
  (func ${NAME} (export "{NAME}")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $gs i32) (local $xd i32) (local $xs i32) (local $row i32)
    (local $p i32) (local $pend i32) (local $xp i32) (local $xsp i32) (local $xdp i32)
    (local $m15 v128) (local $hv v128) (local $h1 v128) (local $dw0 v128) (local $dw1 v128) (local $q v128) (local $ia v128) (local $ib v128)
    (local $lo v128) (local $hi v128) (local $al v128) (local $ah v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $plim i32) (local $pf i32)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $gs (i32.mul (local.get $nb) (i32.const 72)))
    ;; the last address the touch-ahead may start at: 5 loads up to +260 stay inside rows [0, r1)
    (local.set $plim (i32.sub (i32.add (local.get $w_ptr) (i32.mul (i32.shr_u (local.get $r1) (i32.const 2)) (local.get $gs)))
      (i32.const 292)))
    (local.set $xd (i32.add (local.get $x_ptr) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $xs (i32.add (local.get $xd) (i32.shl (local.get $nb) (i32.const 2))))
    (local.set $row (local.get $r0))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $p (i32.add (local.get $w_ptr) (i32.mul (i32.shr_u (local.get $row) (i32.const 2)) (local.get $gs))))
        (local.set $pend (i32.add (local.get $p) (local.get $gs)))
        (local.set $xp (local.get $x_ptr))
        (local.set $xsp (local.get $xs))
        (local.set $xdp (local.get $xd))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (block $bdone
          (loop $blocks
            (br_if $bdone (i32.ge_u (local.get $p) (local.get $pend)))
            ;; touch-ahead: one load in each of the 5 cache lines 1152 bytes (4 steps) ahead, so their misses are in
            ;; flight while this step computes (wasm has no prefetch; without it one thread streamed ~4 GB/s from
            ;; memory against ~13 from cache). Clamped to this call's rows; the values are dropped.
            (local.set $pf (i32.add (local.get $p) (i32.const 1152)))
            (local.set $pf (select (local.get $pf) (local.get $p) (i32.lt_u (local.get $pf) (local.get $plim))))
            (drop (i32.load offset=0 (local.get $pf)))
            (drop (i32.load offset=64 (local.get $pf)))
            (drop (i32.load offset=128 (local.get $pf)))
            (drop (i32.load offset=192 (local.get $pf)))
            (drop (i32.load offset=256 (local.get $pf)))
            ;; blocks 4i, 4i+1 (one super-block), then 4i+2, 4i+3
            (local.set $hv (v128.load (local.get $p)))
            (local.set $h1 (i32x4.extend_high_i16x8_u (local.get $hv)))
            (local.set $hv (i32x4.extend_low_i16x8_u (local.get $hv)))
;;@{H2F} OUT=$dw0 H=$hv
;;@{H2F} OUT=$dw1 H=$h1
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
;;@BLK_Q4_0X4 ACC=$a0 DW=$dw0
;;@BLK_Q4_0X4 ACC=$a1 DW=$dw1
            (local.set $hv (v128.load (local.get $p)))
            (local.set $h1 (i32x4.extend_high_i16x8_u (local.get $hv)))
            (local.set $hv (i32x4.extend_low_i16x8_u (local.get $hv)))
;;@{H2F} OUT=$dw0 H=$hv
;;@{H2F} OUT=$dw1 H=$h1
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
;;@BLK_Q4_0X4 ACC=$a2 DW=$dw0
;;@BLK_Q4_0X4 ACC=$a3 DW=$dw1
            (br $blocks)))
        ;; the row sum in matvec_q4_0_q8_0's order: (acc0 + acc1) + (acc2 + acc3), plus its (empty) tail
        (v128.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32x4.add
            (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3)))
            (v128.const f32x4 0 0 0 0)))
        (local.set $row (i32.add (local.get $row) (i32.const 4)))
        (br $groups))))
;;#endmacro

  ;; out[r] for rows [r0, r1) (multiples of 4) of an x4 matrix; arguments and outputs as matvec_q4_0_q8_0
  ;; (cols a multiple of 128).
  ;; matvec_q4_0x4_q8_0_nosub: the same outputs, faster (fewer instructions per block), for a matrix whose scales
  ;; hold no subnormal f16 (repack_q4_0x4's count is 0); on subnormal scales it stays exact but slow.
;;@MATVEC_Q4_0X4 NAME=matvec_q4_0x4_q8_0 H2F=H2F_LANES
;;@MATVEC_Q4_0X4 NAME=matvec_q4_0x4_q8_0_nosub H2F=H2F_MUL_LANES

;; Token {T} of a 4-token pass: the 4 unpacked chunks ($l0..$l3 low nibbles, $h0..$h3 high) against the
;; token's activation block ($x{T} + $bo; its sum and scale at + $nbs / + $nbd + $bs), into {ACC} (as BLK_Q4_0X4).
;;#macro X4_TOKEN
        (local.set $ia (i32.add (local.get $x{T}) (local.get $bo)))
        (local.set $iv
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=28 (local.get $ia)) (local.get $h3)
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=12 (local.get $ia)) (local.get $l3)
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=24 (local.get $ia)) (local.get $h2)
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=8 (local.get $ia)) (local.get $l2)
            (v128.const i32x4 0 0 0 0))))))
        (local.set $iv
          (i32x4.add
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=20 (local.get $ia)) (local.get $h1)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=4 (local.get $ia)) (local.get $l1)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=16 (local.get $ia)) (local.get $h0)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load32_splat offset=0 (local.get $ia)) (local.get $l0)
              (v128.const i32x4 0 0 0 0)))))
            (local.get $iv)))
        (local.set $ia (i32.add (local.get $x{T}) (local.get $bs)))
        (local.set {ACC}
          (f32x4.add (local.get {ACC})
            (f32x4.mul
              (f32x4.convert_i32x4_s
                (i32x4.sub (local.get $iv)
                  (i32x4.shl (v128.load32_splat (i32.add (local.get $ia) (local.get $nbs))) (i32.const 3))))
              (f32x4.mul (local.get $dw) (v128.load32_splat (i32.add (local.get $ia) (local.get $nbd)))))))
;;#endmacro

;; One block (64 bytes at $p, scales in $dw) for the 4 tokens of a pass: unpack once, then each token.
;;#macro X4_BLOCK4
        (local.set $q (v128.load offset=0 (local.get $p)))
        (local.set $l0 (v128.and (local.get $q) (local.get $m15)))
        (local.set $h0 (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15)))
        (local.set $q (v128.load offset=16 (local.get $p)))
        (local.set $l1 (v128.and (local.get $q) (local.get $m15)))
        (local.set $h1 (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15)))
        (local.set $q (v128.load offset=32 (local.get $p)))
        (local.set $l2 (v128.and (local.get $q) (local.get $m15)))
        (local.set $h2 (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15)))
        (local.set $q (v128.load offset=48 (local.get $p)))
        (local.set $l3 (v128.and (local.get $q) (local.get $m15)))
        (local.set $h3 (v128.and (i16x8.shr_u (local.get $q) (i32.const 4)) (local.get $m15)))
;;@X4_TOKEN T=0 ACC=$a0{J}
;;@X4_TOKEN T=1 ACC=$a1{J}
;;@X4_TOKEN T=2 ACC=$a2{J}
;;@X4_TOKEN T=3 ACC=$a3{J}
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $bo (i32.add (local.get $bo) (i32.const 32)))
        (local.set $bs (i32.add (local.get $bs) (i32.const 4)))
;;#endmacro

;; the 4 rows of one token at $o+{O}, in matvec_q4_0x4_q8_0's order
;;#macro X4_STORE
        (v128.store offset={O} (local.get $o)
          (f32x4.add
            (f32x4.add (f32x4.add (local.get {A}0) (local.get {A}1)) (f32x4.add (local.get {A}2) (local.get {A}3)))
            (v128.const f32x4 0 0 0 0)))
;;#endmacro

;;#if RELAXED
  ;; 4 tokens (activation buffers at x + t*xs, outputs at out + t*os) over rows [r0, r1) of an x4 matrix: for each
  ;; token the float sequence of matvec_q4_0x4_q8_0 (accumulator $a<token><j> holds blocks b = j mod 4).
  (func $matmul4_q4_0x4
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $xs i32) (param $os i32)
    (local $nb i32) (local $gs i32) (local $nbd i32) (local $nbs i32) (local $row i32) (local $p i32) (local $pend i32)
    (local $bo i32) (local $bs i32) (local $ia i32) (local $o i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $m15 v128) (local $hv v128) (local $h1v v128) (local $dw v128) (local $dw1 v128) (local $q v128) (local $iv v128)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128)
    (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128)
    (local $a20 v128) (local $a21 v128) (local $a22 v128) (local $a23 v128)
    (local $a30 v128) (local $a31 v128) (local $a32 v128) (local $a33 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $gs (i32.mul (local.get $nb) (i32.const 72)))
    (local.set $nbd (i32.shl (local.get $nb) (i32.const 5)))
    (local.set $nbs (i32.mul (local.get $nb) (i32.const 36)))
    (local.set $x0 (local.get $x_ptr))
    (local.set $x1 (i32.add (local.get $x0) (local.get $xs)))
    (local.set $x2 (i32.add (local.get $x1) (local.get $xs)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $xs)))
    (local.set $row (local.get $r0))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $p (i32.add (local.get $w_ptr) (i32.mul (i32.shr_u (local.get $row) (i32.const 2)) (local.get $gs))))
        (local.set $pend (i32.add (local.get $p) (local.get $gs)))
        (local.set $bo (i32.const 0))
        (local.set $bs (i32.const 0))
        (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0))
        (local.set $a02 (v128.const i32x4 0 0 0 0)) (local.set $a03 (v128.const i32x4 0 0 0 0))
        (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0))
        (local.set $a12 (v128.const i32x4 0 0 0 0)) (local.set $a13 (v128.const i32x4 0 0 0 0))
        (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a21 (v128.const i32x4 0 0 0 0))
        (local.set $a22 (v128.const i32x4 0 0 0 0)) (local.set $a23 (v128.const i32x4 0 0 0 0))
        (local.set $a30 (v128.const i32x4 0 0 0 0)) (local.set $a31 (v128.const i32x4 0 0 0 0))
        (local.set $a32 (v128.const i32x4 0 0 0 0)) (local.set $a33 (v128.const i32x4 0 0 0 0))
        (block $bdone
          (loop $blocks
            (br_if $bdone (i32.ge_u (local.get $p) (local.get $pend)))
            (local.set $hv (v128.load (local.get $p)))
            (local.set $h1v (i32x4.extend_high_i16x8_u (local.get $hv)))
            (local.set $hv (i32x4.extend_low_i16x8_u (local.get $hv)))
;;@H2F_LANES OUT=$dw H=$hv
;;@H2F_LANES OUT=$dw1 H=$h1v
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
;;@X4_BLOCK4 J=0
            (local.set $dw (local.get $dw1))
;;@X4_BLOCK4 J=1
            (local.set $hv (v128.load (local.get $p)))
            (local.set $h1v (i32x4.extend_high_i16x8_u (local.get $hv)))
            (local.set $hv (i32x4.extend_low_i16x8_u (local.get $hv)))
;;@H2F_LANES OUT=$dw H=$hv
;;@H2F_LANES OUT=$dw1 H=$h1v
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
;;@X4_BLOCK4 J=2
            (local.set $dw (local.get $dw1))
;;@X4_BLOCK4 J=3
            (br $blocks)))
        (local.set $o (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2))))
;;@X4_STORE A=$a0 O=0
        (local.set $o (i32.add (local.get $o) (local.get $os)))
;;@X4_STORE A=$a1 O=0
        (local.set $o (i32.add (local.get $o) (local.get $os)))
;;@X4_STORE A=$a2 O=0
        (local.set $o (i32.add (local.get $o) (local.get $os)))
;;@X4_STORE A=$a3 O=0
        (local.set $row (i32.add (local.get $row) (i32.const 4)))
        (br $groups))))
;;#endif

  ;; ---------------------------------------------------------------- Q8_K activation quantization (K-quants)
  ;;
  ;; Q8_K activation buffer for n values (nb = n/256 super-blocks, nb*292 bytes, the size of ggml's block_q8_K):
  ;;   i8 qs[n] at +0 | i16 bsums[nb*16] at +n (sum of each run of 16 qs) | f32 d[nb] at +n+32*nb.

  ;; ggml's quantize_row_q8_K_ref exactly: per 256 values, max = the first value of largest magnitude,
  ;; iscale = -127/max, qs = min(127, nearest_int(iscale*x)) (round half to even), d = 1/iscale;
  ;; an all-zero block gives d = 0, qs = 0, bsums = 0.
  (func (export "quantize_q8_k") (param $x i32) (param $y i32) (param $n i32)
    (local $nb i32) (local $b i32) (local $bp i32) (local $dp i32) (local $i i32) (local $p i32)
    (local $mx v128) (local $amax f32) (local $av v128) (local $m v128) (local $iscale f32) (local $iv v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $nb (i32.shr_u (local.get $n) (i32.const 8)))
    (local.set $bp (i32.add (local.get $y) (local.get $n)))
    (local.set $dp (i32.add (local.get $bp) (i32.shl (local.get $nb) (i32.const 5))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $mx (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (i32.const 1024)))
          (local.set $p (i32.add (local.get $x) (local.get $i)))
          (local.set $mx
            (f32x4.max
              (f32x4.max (f32x4.max (local.get $mx) (f32x4.abs (v128.load offset=0 align=4 (local.get $p))))
                         (f32x4.abs (v128.load offset=16 align=4 (local.get $p))))
              (f32x4.max (f32x4.abs (v128.load offset=32 align=4 (local.get $p)))
                         (f32x4.abs (v128.load offset=48 align=4 (local.get $p))))))
          (local.set $i (i32.add (local.get $i) (i32.const 64)))
          (br $l)))
        (local.set $amax
          (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
                   (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (if (f32.eq (local.get $amax) (f32.const 0))
          (then
            (local.set $i (i32.const 0))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $i) (i32.const 256)))
              (v128.store align=1 (i32.add (local.get $y) (local.get $i)) (v128.const i32x4 0 0 0 0))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $l)))
            (v128.store offset=0 align=1 (local.get $bp) (v128.const i32x4 0 0 0 0))
            (v128.store offset=16 align=1 (local.get $bp) (v128.const i32x4 0 0 0 0))
            (f32.store (local.get $dp) (f32.const 0)))
          (else
            ;; the first element whose magnitude is amax gives the sign (ggml keeps the first strict maximum)
            (local.set $av (f32x4.splat (local.get $amax)))
            (local.set $p (local.get $x))
            (block $found (loop $scan
              (local.set $m (f32x4.eq (f32x4.abs (v128.load align=4 (local.get $p))) (local.get $av)))
              (br_if $found (v128.any_true (local.get $m)))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br $scan)))
            (local.set $iscale
              (f32.div (f32.const -127)
                (f32.load (i32.add (local.get $p) (i32.shl (i32.ctz (i32x4.bitmask (local.get $m))) (i32.const 2))))))
            (local.set $iv (f32x4.splat (local.get $iscale)))
            (local.set $i (i32.const 0))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $i) (i32.const 16)))
              (local.set $p (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 6))))
              (local.set $q0 (i32x4.min_s (i32x4.trunc_sat_f32x4_s (f32x4.nearest
                (f32x4.mul (local.get $iv) (v128.load offset=0 align=4 (local.get $p))))) (v128.const i32x4 127 127 127 127)))
              (local.set $q1 (i32x4.min_s (i32x4.trunc_sat_f32x4_s (f32x4.nearest
                (f32x4.mul (local.get $iv) (v128.load offset=16 align=4 (local.get $p))))) (v128.const i32x4 127 127 127 127)))
              (local.set $q2 (i32x4.min_s (i32x4.trunc_sat_f32x4_s (f32x4.nearest
                (f32x4.mul (local.get $iv) (v128.load offset=32 align=4 (local.get $p))))) (v128.const i32x4 127 127 127 127)))
              (local.set $q3 (i32x4.min_s (i32x4.trunc_sat_f32x4_s (f32x4.nearest
                (f32x4.mul (local.get $iv) (v128.load offset=48 align=4 (local.get $p))))) (v128.const i32x4 127 127 127 127)))
              (v128.store align=1 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 4)))
                (i8x16.narrow_i16x8_s (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1))
                                      (i16x8.narrow_i32x4_s (local.get $q2) (local.get $q3))))
              (i32.store16 (i32.add (local.get $bp) (i32.shl (local.get $i) (i32.const 1)))
                (call $hsum_i32 (i32x4.add (i32x4.add (local.get $q0) (local.get $q1))
                                           (i32x4.add (local.get $q2) (local.get $q3)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l)))
            (f32.store (local.get $dp) (f32.div (f32.const 1) (local.get $iscale)))))
        (local.set $x (i32.add (local.get $x) (i32.const 1024)))
        (local.set $y (i32.add (local.get $y) (i32.const 256)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks))))

;; The i32 total of the lanes of {V} (an expression: two swizzles and adds, then lane 0).
;;#macro HSUM_I32
        (i32x4.extract_lane 0
          (i32x4.add
            (local.tee {V} (i32x4.add (local.get {V}) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get {V}) (local.get {V}))))
            (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get {V}) (local.get {V}))))
;;#endmacro

;; Shared by the byte and wide Q4_K kernels (same integers, same float sequence => bit-identical outputs).
;; Unpacks the 12 scale bytes of the block at $wp: bytes 0..7 of $scv = the 6-bit scales, 8..15 = the mins;
;; $mn = the mins as i16x8.
;;#macro Q4K_SCALES
            (local.set $u0 (i32.load offset=4 align=1 (local.get $wp)))
            (local.set $u1 (i32.load offset=8 align=1 (local.get $wp)))
            (local.set $u2 (i32.load offset=12 align=1 (local.get $wp)))
            (local.set $scv
              (i32x4.replace_lane 3
                (i32x4.replace_lane 2
                  (i32x4.replace_lane 1
                    (i32x4.splat (i32.and (local.get $u0) (i32.const 0x3f3f3f3f)))
                    (i32.or (i32.and (local.get $u2) (i32.const 0x0f0f0f0f))
                            (i32.shl (i32.and (i32.shr_u (local.get $u0) (i32.const 6)) (i32.const 0x03030303)) (i32.const 4))))
                  (i32.and (local.get $u1) (i32.const 0x3f3f3f3f)))
                (i32.or (i32.and (i32.shr_u (local.get $u2) (i32.const 4)) (i32.const 0x0f0f0f0f))
                        (i32.shl (i32.and (i32.shr_u (local.get $u1) (i32.const 6)) (i32.const 0x03030303)) (i32.const 4)))))
            (local.set $mn (i16x8.extend_high_i8x16_u (local.get $scv)))
;;#endmacro

;; $acc += f32(total of $sacc) * (d*d_x); $accm += f32(lanes of sum_j m_j*xsum_j) * (dmin*d_x) (bsums at $xb).
;;#macro Q4K_FINISH
            (local.set $dx (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2)))))
            ;; the lane split of $sacc differs between builds, its total does not: reduce before the float step
            (local.set $acc (f32.add (local.get $acc)
              (f32.mul (f32.convert_i32_s
;;@HSUM_I32 V=$sacc
                       )
                       (f32.mul (call $h2f (i32.load16_u offset=0 (local.get $wp))) (local.get $dx)))))
            ;; mins: [m0 m0 m1 m1 m2 m2 m3 m3] . bsums[0..8) + [m4 m4 .. m7 m7] . bsums[8..16)
            (local.set $accm (f32x4.add (local.get $accm)
              (f32x4.mul
                (f32x4.convert_i32x4_s
                  (i32x4.add
                    (i32x4.dot_i16x8_s (v128.load offset=0 align=1 (local.get $xb))
                      (i8x16.shuffle 0 1 0 1 2 3 2 3 4 5 4 5 6 7 6 7 (local.get $mn) (local.get $mn)))
                    (i32x4.dot_i16x8_s (v128.load offset=16 align=1 (local.get $xb))
                      (i8x16.shuffle 8 9 8 9 10 11 10 11 12 13 12 13 14 15 14 15 (local.get $mn) (local.get $mn)))))
                (f32x4.splat (f32.mul (call $h2f (i32.load16_u offset=2 (local.get $wp))) (local.get $dx))))))
;;#endmacro

;; Shared by the byte and wide Q6_K kernels: $sacc = -32 * sum_g sc_g * bsum_g as lanes (bsums at $xb).
;;#macro Q6K_BSUM_TERM
            (local.set $scv (v128.load offset=192 align=1 (local.get $wp)))
            ;; -32 * sum_g sc_g * bsum_g, as lanes
            (local.set $sacc
              (i32x4.shl
                (i32x4.add
                  (i32x4.dot_i16x8_s (v128.load offset=0 align=1 (local.get $xb)) (i16x8.extend_low_i8x16_s (local.get $scv)))
                  (i32x4.dot_i16x8_s (v128.load offset=16 align=1 (local.get $xb)) (i16x8.extend_high_i8x16_s (local.get $scv))))
                (i32.const 5)))
            (local.set $sacc (i32x4.sub (v128.const i32x4 0 0 0 0) (local.get $sacc)))
;;#endmacro

;; $acc += f32(total of $sacc) * (d*d_x).
;;#macro Q6K_FINISH
            (local.set $acc (f32.add (local.get $acc)
              (f32.mul (f32.convert_i32_s
;;@HSUM_I32 V=$sacc
                       )
                (f32.mul (call $h2f (i32.load16_u offset=208 (local.get $wp)))
                         (f32.load (i32.add (local.get $xd) (i32.shl (local.get $b) (i32.const 2))))))))
;;#endmacro

;; One Q4_K sub-block pair: the 32 bytes at $wp+{QA}, $wp+{QB} hold sub-block {SA} (low nibbles, activations at
;; $xp+{X0}, {X16}) and {SB} (high nibbles, $xp+{X32}, {X48}). Relaxed build: nibbles (0..15) are the 7-bit operand
;; of relaxed_dot; the unscaled sub-block dots go to {OA}, {OB}, and the caller gathers four of them with REDUCE4
;; and multiplies by four scales at once. Plain build: $sacc += lanes of scale_j * sum(nibble * q8), i16 products
;; summed (4*15*128 < 2^15) and the scale applied by i32x4.dot_i16x8_s. Same exact i32 total either way.
;;#macro Q4K_PAIR
        (local.set $qa (v128.load offset={QA} align=1 (local.get $wp)))
        (local.set $qb (v128.load offset={QB} align=1 (local.get $wp)))
        (local.set $lo (v128.and (local.get $qa) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $lo2 (v128.and (local.get $qb) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi2 (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
;;#if RELAXED
        ;; unscaled sub-block dots into {OA}, {OB}; four of them are gathered (REDUCE4) and scaled at once
        (local.set {OA}
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X16} (local.get $xp)) (local.get $lo2)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X0} (local.get $xp)) (local.get $lo)
              (v128.const i32x4 0 0 0 0))))
        (local.set {OB}
          (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X48} (local.get $xp)) (local.get $hi2)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X32} (local.get $xp)) (local.get $hi)
              (v128.const i32x4 0 0 0 0))))
;;#else
        (local.set $y0 (v128.load offset={X0} (local.get $xp)))
        (local.set $y1 (v128.load offset={X16} (local.get $xp)))
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.dot_i16x8_s
            (i16x8.add
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $y0))
                         (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $y0)))
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo2) (local.get $y1))
                         (i16x8.extmul_high_i8x16_s (local.get $lo2) (local.get $y1))))
            (i16x8.splat (i8x16.extract_lane_u {SA} (local.get $scv))))))
        (local.set $y0 (v128.load offset={X32} (local.get $xp)))
        (local.set $y1 (v128.load offset={X48} (local.get $xp)))
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.dot_i16x8_s
            (i16x8.add
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $hi) (local.get $y0))
                         (i16x8.extmul_high_i8x16_s (local.get $hi) (local.get $y0)))
              (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $hi2) (local.get $y1))
                         (i16x8.extmul_high_i8x16_s (local.get $hi2) (local.get $y1))))
            (i16x8.splat (i8x16.extract_lane_u {SB} (local.get $scv))))))
;;#endif
;;#endmacro

  ;; ---------------------------------------------------------------- Q4_K x Q8_K

  ;; Q4_K block (144 bytes, 256 values): f16 d, f16 dmin, u8 scales[12] (8 six-bit scales and 8 six-bit mins,
  ;; ggml's get_scale_min_k4 packing), u8 qs[128]; value 64k+l = d*sc[2k]*(qs[32k+l] & 15) - dmin*m[2k],
  ;; value 64k+32+l = d*sc[2k+1]*(qs[32k+l] >> 4) - dmin*m[2k+1]. Per super-block the integer sums
  ;; S = sum_j sc_j * sum(q4*q8) and M = sum_j m_j * (bsum[2j] + bsum[2j+1]) are exact; the row accumulates
  ;; f32(S) * (d*d_x) in an f32 (S reduced to one i32 first: its lane split differs between the plain and relaxed
  ;; builds) and f32(M lanes) * (dmin*d_x) in an f32x4 (same lanes in both builds); it returns S part - hsum(M part).
  (func $matvec_q4_k_q8_k (export "matvec_q4_k_q8_k")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $stride i32) (local $xb i32) (local $xd i32) (local $row i32) (local $wp i32) (local $xp i32)
    (local $b i32) (local $u0 i32) (local $u1 i32) (local $u2 i32) (local $dx f32) (local $acc f32)
    (local $scv v128) (local $mn v128) (local $sacc v128) (local $accm v128)
    (local $qa v128) (local $qb v128) (local $lo v128) (local $lo2 v128) (local $hi v128) (local $hi2 v128)
    (local $y0 v128) (local $y1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $t v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q4_K_BYTES$$)))
    (local.set $xb (i32.add (local.get $x_ptr) (local.get $cols)))
    (local.set $xd (i32.add (local.get $xb) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $acc (f32.const 0))
        (local.set $accm (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@Q4K_SCALES
            (local.set $sacc (v128.const i32x4 0 0 0 0))
;;@Q4K_PAIR QA=16 QB=32 X0=0 X16=16 X32=32 X48=48 SA=0 SB=1 OA=$s0 OB=$s1
;;@Q4K_PAIR QA=48 QB=64 X0=64 X16=80 X32=96 X48=112 SA=2 SB=3 OA=$s2 OB=$s3
;;#if RELAXED
;;@REDUCE4 OUT=$t
            (local.set $sacc (i32x4.add (local.get $sacc)
              (i32x4.mul (local.get $t)
                (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (local.get $scv))))))
;;#endif
;;@Q4K_PAIR QA=80 QB=96 X0=128 X16=144 X32=160 X48=176 SA=4 SB=5 OA=$s0 OB=$s1
;;@Q4K_PAIR QA=112 QB=128 X0=192 X16=208 X32=224 X48=240 SA=6 SB=7 OA=$s2 OB=$s3
;;#if RELAXED
;;@REDUCE4 OUT=$t
            (local.set $sacc (i32x4.add (local.get $sacc)
              (i32x4.mul (local.get $t)
                (i32x4.extend_high_i16x8_u (i16x8.extend_low_i8x16_u (local.get $scv))))))
;;#endif
;;@Q4K_FINISH
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q4_K_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 256)))
            (local.set $xb (i32.add (local.get $xb) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (local.set $xb (i32.add (local.get $x_ptr) (local.get $cols)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.sub (local.get $acc) (call $hsum_f32 (local.get $accm))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

;; Q4_K 4-token pass: sub-block pair {P} (bytes at $wp+16+32*{P}; sub-blocks 2P, 2P+1; activations at +64*{P})
;; unpacked once, then each token: $sacc<t> += lanes of scale * sum(nibble * q8) (the same exact total as the
;; mat-vec's REDUCE4 route).
;;#macro Q4K4_PAIR
        (local.set $qa (v128.load offset={QA} align=1 (local.get $wp)))
        (local.set $qb (v128.load offset={QB} align=1 (local.get $wp)))
        (local.set $lo (v128.and (local.get $qa) (local.get $m15)))
        (local.set $lo2 (v128.and (local.get $qb) (local.get $m15)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (local.get $m15)))
        (local.set $hi2 (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (local.get $m15)))
        (local.set $sca (i32x4.splat (i8x16.extract_lane_u {SA} (local.get $scv))))
        (local.set $scb (i32x4.splat (i8x16.extract_lane_u {SB} (local.get $scv))))
;;@Q4K4_TOKEN T=0 X0={X0} X16={X16} X32={X32} X48={X48}
;;@Q4K4_TOKEN T=1 X0={X0} X16={X16} X32={X32} X48={X48}
;;@Q4K4_TOKEN T=2 X0={X0} X16={X16} X32={X32} X48={X48}
;;@Q4K4_TOKEN T=3 X0={X0} X16={X16} X32={X32} X48={X48}
;;#endmacro

;;#macro Q4K4_TOKEN
        (local.set $ia (i32.add (local.get $x{T}) (local.get $bo)))
        (local.set $sacc{T} (i32x4.add (local.get $sacc{T})
          (i32x4.add
            (i32x4.mul (local.get $sca)
              (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X16} (local.get $ia)) (local.get $lo2)
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X0} (local.get $ia)) (local.get $lo)
                  (v128.const i32x4 0 0 0 0))))
            (i32x4.mul (local.get $scb)
              (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X48} (local.get $ia)) (local.get $hi2)
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset={X32} (local.get $ia)) (local.get $hi)
                  (v128.const i32x4 0 0 0 0)))))))
;;#endmacro

;; Q4K_FINISH for token {T}: bsums at $x{T} + cols + $bb, d_x at $x{T} + $nbd + $bd; $dd, $dm = the block's f16
;; d and dmin.
;;#macro Q4K4_FINISH
        (local.set $ia (i32.add (local.get $x{T}) (local.get $cols)))
        (local.set $dx (f32.load (i32.add (i32.add (local.get $ia) (local.get $nbd)) (local.get $bd))))
        (local.set $ia (i32.add (local.get $ia) (local.get $bb)))
        (local.set $acc{T} (f32.add (local.get $acc{T})
          (f32.mul (f32.convert_i32_s
;;@HSUM_I32 V=$sacc{T}
                   )
                   (f32.mul (local.get $dd) (local.get $dx)))))
        (local.set $accm{T} (f32x4.add (local.get $accm{T})
          (f32x4.mul
            (f32x4.convert_i32x4_s
              (i32x4.add
                (i32x4.dot_i16x8_s (v128.load offset=0 align=1 (local.get $ia))
                  (i8x16.shuffle 0 1 0 1 2 3 2 3 4 5 4 5 6 7 6 7 (local.get $mn) (local.get $mn)))
                (i32x4.dot_i16x8_s (v128.load offset=16 align=1 (local.get $ia))
                  (i8x16.shuffle 8 9 8 9 10 11 10 11 12 13 12 13 14 15 14 15 (local.get $mn) (local.get $mn)))))
            (f32x4.splat (f32.mul (local.get $dm) (local.get $dx))))))
;;#endmacro

;;#if RELAXED
  ;; 4 tokens (Q8_K buffers at x + t*xs, outputs at out + t*os) over rows [r0, r1) of a Q4_K matrix: per token the
  ;; float sequence of matvec_q4_k_q8_k.
  (func $matmul4_q4_k
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $xs i32) (param $os i32)
    (local $nb i32) (local $stride i32) (local $nbd i32) (local $row i32) (local $wp i32) (local $b i32)
    (local $bo i32) (local $bb i32) (local $bd i32) (local $ia i32) (local $u0 i32) (local $u1 i32) (local $u2 i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $o i32)
    (local $dx f32) (local $dd f32) (local $dm f32)
    (local $acc0 f32) (local $acc1 f32) (local $acc2 f32) (local $acc3 f32)
    (local $m15 v128) (local $scv v128) (local $mn v128) (local $sca v128) (local $scb v128)
    (local $qa v128) (local $qb v128) (local $lo v128) (local $lo2 v128) (local $hi v128) (local $hi2 v128)
    (local $sacc0 v128) (local $sacc1 v128) (local $sacc2 v128) (local $sacc3 v128)
    (local $accm0 v128) (local $accm1 v128) (local $accm2 v128) (local $accm3 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q4_K_BYTES$$)))
    (local.set $nbd (i32.shl (local.get $nb) (i32.const 5)))
    (local.set $x0 (local.get $x_ptr))
    (local.set $x1 (i32.add (local.get $x0) (local.get $xs)))
    (local.set $x2 (i32.add (local.get $x1) (local.get $xs)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $xs)))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $acc0 (f32.const 0)) (local.set $acc1 (f32.const 0))
        (local.set $acc2 (f32.const 0)) (local.set $acc3 (f32.const 0))
        (local.set $accm0 (v128.const i32x4 0 0 0 0)) (local.set $accm1 (v128.const i32x4 0 0 0 0))
        (local.set $accm2 (v128.const i32x4 0 0 0 0)) (local.set $accm3 (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.const 0))
        (local.set $bo (i32.const 0))
        (local.set $bb (i32.const 0))
        (local.set $bd (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@Q4K_SCALES
            (local.set $sacc0 (v128.const i32x4 0 0 0 0)) (local.set $sacc1 (v128.const i32x4 0 0 0 0))
            (local.set $sacc2 (v128.const i32x4 0 0 0 0)) (local.set $sacc3 (v128.const i32x4 0 0 0 0))
;;@Q4K4_PAIR QA=16 QB=32 X0=0 X16=16 X32=32 X48=48 SA=0 SB=1
;;@Q4K4_PAIR QA=48 QB=64 X0=64 X16=80 X32=96 X48=112 SA=2 SB=3
;;@Q4K4_PAIR QA=80 QB=96 X0=128 X16=144 X32=160 X48=176 SA=4 SB=5
;;@Q4K4_PAIR QA=112 QB=128 X0=192 X16=208 X32=224 X48=240 SA=6 SB=7
            (local.set $dd (call $h2f (i32.load16_u offset=0 (local.get $wp))))
            (local.set $dm (call $h2f (i32.load16_u offset=2 (local.get $wp))))
;;@Q4K4_FINISH T=0
;;@Q4K4_FINISH T=1
;;@Q4K4_FINISH T=2
;;@Q4K4_FINISH T=3
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q4_K_BYTES$$)))
            (local.set $bo (i32.add (local.get $bo) (i32.const 256)))
            (local.set $bb (i32.add (local.get $bb) (i32.const 32)))
            (local.set $bd (i32.add (local.get $bd) (i32.const 4)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (local.set $o (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2))))
        (f32.store (local.get $o) (f32.sub (local.get $acc0) (call $hsum_f32 (local.get $accm0))))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (f32.sub (local.get $acc1) (call $hsum_f32 (local.get $accm1))))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (f32.sub (local.get $acc2) (call $hsum_f32 (local.get $accm2))))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (f32.sub (local.get $acc3) (call $hsum_f32 (local.get $accm3))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))
;;#endif

;; $sacc += lanes of scale * sum(q6 * q8) for the 16 6-bit values in $q (0..63, the 7-bit operand of
;; relaxed_dot), activations at $xp+{X}, scale = the i8 at $wp+{G}: i16 pair sums (2*63*128 < 2^15; relaxed:
;; i16x8.relaxed_dot, plain: extmul), the scale applied by i32x4.dot_i16x8_s.
;;#macro Q6K_DOT
;;#if RELAXED
        ;; i16 pair sums (|.| <= 2*128*63 < 2^15), then the scale in i32x4.dot_i16x8_s
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.dot_i16x8_s
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset={X} (local.get $xp)) (local.get $q))
            (i16x8.splat (i32.load8_s offset={G} (local.get $wp))))))
;;#else
        (local.set $y0 (v128.load offset={X} (local.get $xp)))
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.dot_i16x8_s
            (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $q) (local.get $y0))
                       (i16x8.extmul_high_i8x16_s (local.get $q) (local.get $y0)))
            (i16x8.splat (i32.load8_s offset={G} (local.get $wp))))))
;;#endif
;;#endmacro

;; 64 Q6_K values from ql at $wp+{QA}, $wp+{QB} and qh at $wp+{QH} (16 lanes each): four groups of 16.
;; Byte-wise shifts are done as i16 shifts followed by byte masks (bits crossing into the neighbour byte are masked).
;;#macro Q6K_QUAD
        (local.set $qa (v128.load offset={QA} align=1 (local.get $wp)))
        (local.set $qb (v128.load offset={QB} align=1 (local.get $wp)))
        (local.set $qh (v128.load offset={QH} align=1 (local.get $wp)))
        (local.set $q (v128.or (v128.and (local.get $qa) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 4)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_DOT X={X1} G={G1}
        (local.set $q (v128.or (v128.and (local.get $qb) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 2)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_DOT X={X2} G={G2}
        (local.set $q (v128.or
          (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (local.get $qh) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_DOT X={X3} G={G3}
        (local.set $q (v128.or
          (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shr_u (local.get $qh) (i32.const 2)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_DOT X={X4} G={G4}
;;#endmacro

  ;; ---------------------------------------------------------------- Q6_K x Q8_K

  ;; Q6_K block (210 bytes, 256 values): u8 ql[128], u8 qh[64], i8 scales[16], f16 d. For half h (0, 1) and
  ;; l in 0..31 (ql at 64h, qh at 128+32h, values from 128h):
  ;;   v[l]    = (ql[l] & 15)    | ((qh[l] >> 0 & 3) << 4)     v[l+32] = (ql[l+32] & 15) | ((qh[l] >> 2 & 3) << 4)
  ;;   v[l+64] = (ql[l] >> 4)    | ((qh[l] >> 4 & 3) << 4)     v[l+96] = (ql[l+32] >> 4) | ((qh[l] >> 6 & 3) << 4)
  ;; value = d * scales[value/16] * (v - 32). The "-32" is folded out: T = sum_g sc_g*sum(v*q8) - 32*sum_g sc_g*bsum_g
  ;; (exact in i32, reduced to one i32 per super-block); the row accumulates f32(T) * (d*d_x) in an f32.
  (func $matvec_q6_k_q8_k (export "matvec_q6_k_q8_k")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $stride i32) (local $xb i32) (local $xd i32) (local $row i32) (local $wp i32) (local $xp i32)
    (local $b i32) (local $scv v128) (local $sacc v128) (local $acc f32)
    (local $qa v128) (local $qb v128) (local $qh v128) (local $q v128) (local $y0 v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q6_K_BYTES$$)))
    (local.set $xd (i32.add (i32.add (local.get $x_ptr) (local.get $cols)) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $xb (i32.add (local.get $x_ptr) (local.get $cols)))
        (local.set $acc (f32.const 0))
        (local.set $b (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@Q6K_BSUM_TERM
;;@Q6K_QUAD QA=0 QB=32 QH=128 X1=0 X2=32 X3=64 X4=96 G1=192 G2=194 G3=196 G4=198
;;@Q6K_QUAD QA=16 QB=48 QH=144 X1=16 X2=48 X3=80 X4=112 G1=193 G2=195 G3=197 G4=199
;;@Q6K_QUAD QA=64 QB=96 QH=160 X1=128 X2=160 X3=192 X4=224 G1=200 G2=202 G3=204 G4=206
;;@Q6K_QUAD QA=80 QB=112 QH=176 X1=144 X2=176 X3=208 X4=240 G1=201 G2=203 G3=205 G4=207
;;@Q6K_FINISH
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q6_K_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 256)))
            (local.set $xb (i32.add (local.get $xb) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (local.get $acc))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

;; Q6_K 4-token pass: the 64 values of Q6K_QUAD unpacked once into $q1..$q4 (scales in $g1..$g4), then each token.
;;#macro Q6K4_QUAD
        (local.set $qa (v128.load offset={QA} align=1 (local.get $wp)))
        (local.set $qb (v128.load offset={QB} align=1 (local.get $wp)))
        (local.set $qh (v128.load offset={QH} align=1 (local.get $wp)))
        (local.set $q1 (v128.or (v128.and (local.get $qa) (local.get $m15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 4)) (local.get $m48))))
        (local.set $q2 (v128.or (v128.and (local.get $qb) (local.get $m15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 2)) (local.get $m48))))
        (local.set $q3 (v128.or (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (local.get $m15))
          (v128.and (local.get $qh) (local.get $m48))))
        (local.set $q4 (v128.or (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (local.get $m15))
          (v128.and (i16x8.shr_u (local.get $qh) (i32.const 2)) (local.get $m48))))
        (local.set $g1 (i16x8.splat (i32.load8_s offset={G1} (local.get $wp))))
        (local.set $g2 (i16x8.splat (i32.load8_s offset={G2} (local.get $wp))))
        (local.set $g3 (i16x8.splat (i32.load8_s offset={G3} (local.get $wp))))
        (local.set $g4 (i16x8.splat (i32.load8_s offset={G4} (local.get $wp))))
;;@Q6K4_TOKEN T=0 X1={X1} X2={X2} X3={X3} X4={X4}
;;@Q6K4_TOKEN T=1 X1={X1} X2={X2} X3={X3} X4={X4}
;;@Q6K4_TOKEN T=2 X1={X1} X2={X2} X3={X3} X4={X4}
;;@Q6K4_TOKEN T=3 X1={X1} X2={X2} X3={X3} X4={X4}
;;#endmacro

;;#macro Q6K4_TOKEN
        (local.set $ia (i32.add (local.get $x{T}) (local.get $bo)))
        (local.set $sacc{T} (i32x4.add (local.get $sacc{T})
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset={X1} (local.get $ia)) (local.get $q1)) (local.get $g1))
              (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset={X2} (local.get $ia)) (local.get $q2)) (local.get $g2)))
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset={X3} (local.get $ia)) (local.get $q3)) (local.get $g3))
              (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset={X4} (local.get $ia)) (local.get $q4)) (local.get $g4))))))
;;#endmacro

;; Q6K_BSUM_TERM for token {T} (its bsums at $x{T} + cols + $bb; scales in $scv)
;;#macro Q6K4_BSUM
        (local.set $ia (i32.add (i32.add (local.get $x{T}) (local.get $cols)) (local.get $bb)))
        (local.set $sacc{T}
          (i32x4.sub (v128.const i32x4 0 0 0 0)
            (i32x4.shl
              (i32x4.add
                (i32x4.dot_i16x8_s (v128.load offset=0 align=1 (local.get $ia)) (i16x8.extend_low_i8x16_s (local.get $scv)))
                (i32x4.dot_i16x8_s (v128.load offset=16 align=1 (local.get $ia)) (i16x8.extend_high_i8x16_s (local.get $scv))))
              (i32.const 5))))
;;#endmacro

;; Q6K_FINISH for token {T} (d_x at $x{T} + $nbd + $bd; $dd = the block's d)
;;#macro Q6K4_FINISH
        (local.set $acc{T} (f32.add (local.get $acc{T})
          (f32.mul (f32.convert_i32_s
;;@HSUM_I32 V=$sacc{T}
                   )
            (f32.mul (local.get $dd)
                     (f32.load (i32.add (i32.add (local.get $x{T}) (local.get $nbd)) (local.get $bd)))))))
;;#endmacro

;;#if RELAXED
  ;; 4 tokens (Q8_K buffers at x + t*xs, outputs at out + t*os) over rows [r0, r1) of a Q6_K matrix: per token the
  ;; integer total and float sequence of matvec_q6_k_q8_k.
  (func $matmul4_q6_k
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $xs i32) (param $os i32)
    (local $nb i32) (local $stride i32) (local $nbd i32) (local $row i32) (local $wp i32) (local $b i32)
    (local $bo i32) (local $bb i32) (local $bd i32) (local $ia i32) (local $o i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $dd f32) (local $acc0 f32) (local $acc1 f32) (local $acc2 f32) (local $acc3 f32)
    (local $m15 v128) (local $m48 v128) (local $scv v128) (local $qa v128) (local $qb v128) (local $qh v128)
    (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $q4 v128)
    (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $g4 v128)
    (local $sacc0 v128) (local $sacc1 v128) (local $sacc2 v128) (local $sacc3 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $m48 (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q6_K_BYTES$$)))
    (local.set $nbd (i32.add (local.get $cols) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $x0 (local.get $x_ptr))
    (local.set $x1 (i32.add (local.get $x0) (local.get $xs)))
    (local.set $x2 (i32.add (local.get $x1) (local.get $xs)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $xs)))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $acc0 (f32.const 0)) (local.set $acc1 (f32.const 0))
        (local.set $acc2 (f32.const 0)) (local.set $acc3 (f32.const 0))
        (local.set $b (i32.const 0))
        (local.set $bo (i32.const 0))
        (local.set $bb (i32.const 0))
        (local.set $bd (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
            (local.set $scv (v128.load offset=192 align=1 (local.get $wp)))
;;@Q6K4_BSUM T=0
;;@Q6K4_BSUM T=1
;;@Q6K4_BSUM T=2
;;@Q6K4_BSUM T=3
;;@Q6K4_QUAD QA=0 QB=32 QH=128 X1=0 X2=32 X3=64 X4=96 G1=192 G2=194 G3=196 G4=198
;;@Q6K4_QUAD QA=16 QB=48 QH=144 X1=16 X2=48 X3=80 X4=112 G1=193 G2=195 G3=197 G4=199
;;@Q6K4_QUAD QA=64 QB=96 QH=160 X1=128 X2=160 X3=192 X4=224 G1=200 G2=202 G3=204 G4=206
;;@Q6K4_QUAD QA=80 QB=112 QH=176 X1=144 X2=176 X3=208 X4=240 G1=201 G2=203 G3=205 G4=207
            (local.set $dd (call $h2f (i32.load16_u offset=208 (local.get $wp))))
;;@Q6K4_FINISH T=0
;;@Q6K4_FINISH T=1
;;@Q6K4_FINISH T=2
;;@Q6K4_FINISH T=3
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q6_K_BYTES$$)))
            (local.set $bo (i32.add (local.get $bo) (i32.const 256)))
            (local.set $bb (i32.add (local.get $bb) (i32.const 32)))
            (local.set $bd (i32.add (local.get $bd) (i32.const 4)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (local.set $o (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2))))
        (f32.store (local.get $o) (local.get $acc0))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (local.get $acc1))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (local.get $acc2))
        (local.set $o (i32.add (local.get $o) (local.get $os)))
        (f32.store (local.get $o) (local.get $acc3))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))
;;#endif

  ;; ---------------------------------------------------------------- wide Q8_K activations (plain-SIMD fast path)
  ;;
  ;; Wide Q8_K buffer for n values (nb = n/256, nb*548 bytes), written by widen_q8_k from a Q8_K buffer:
  ;; i16 qs[n] at +0 with every run of 16 values stored as [x0 x2 .. x14][x1 x3 .. x15] (even, then odd lanes) |
  ;; i16 bsums[nb*16] at +2n | f32 d[nb] at +2n+32nb. The *_w K-quant kernels read weight chunks as i16 lanes
  ;; (even bytes = low halves, odd bytes = high halves) and use i32x4.dot_i16x8_s against these; their per-super-block
  ;; integers and float sequence are those of the byte kernels, so outputs are bit-identical to them.
  (func (export "widen_q8_k") (param $xq i32) (param $xw i32) (param $n i32)
    (local $i i32) (local $a v128) (local $nb i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $a (v128.load align=1 (i32.add (local.get $xq) (local.get $i))))
      (v128.store offset=0 align=1 (i32.add (local.get $xw) (i32.shl (local.get $i) (i32.const 1)))
        (i16x8.shr_s (i16x8.shl (local.get $a) (i32.const 8)) (i32.const 8)))
      (v128.store offset=16 align=1 (i32.add (local.get $xw) (i32.shl (local.get $i) (i32.const 1)))
        (i16x8.shr_s (local.get $a) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
    ;; bsums and d: 36 bytes per super-block, copied after the qs
    (local.set $nb (i32.mul (i32.shr_u (local.get $n) (i32.const 8)) (i32.const 36)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $nb)))
      (i32.store (i32.add (i32.add (local.get $xw) (i32.shl (local.get $n) (i32.const 1))) (local.get $i))
        (i32.load (i32.add (i32.add (local.get $xq) (local.get $n)) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l))))

;; One 16-byte Q4_K chunk at $wp+{Q} (low nibbles: group at wide offset {XL}, high nibbles: group at {XH}):
;; $pa += low-nibble partial, $pb += high-nibble partial (i32x4).
;;#macro Q4K_W_CHUNK
        (local.set $qa (v128.load offset={Q} align=1 (local.get $wp)))
        (local.set $pa (i32x4.add (local.get $pa)
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.and (local.get $qa) (v128.const i16x8 15 15 15 15 15 15 15 15))
                               (v128.load offset={XL} (local.get $xp)))
            (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $qa) (i32.const 8)) (v128.const i16x8 15 15 15 15 15 15 15 15))
                               (v128.load offset={XL16} (local.get $xp))))))
        (local.set $pb (i32x4.add (local.get $pb)
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (v128.const i16x8 15 15 15 15 15 15 15 15))
                               (v128.load offset={XH} (local.get $xp)))
            (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $qa) (i32.const 12))
                               (v128.load offset={XH16} (local.get $xp))))))
;;#endmacro

;; Sub-blocks {SA} (low nibbles of qs[32k..32k+32) at $wp+{Q0}, $wp+{Q1}) and {SB} (high nibbles); wide activation
;; groups: low {X0},{X1}, high {X2},{X3} (each followed by its odd half at +16).
;;#macro Q4K_W_PAIR
        (local.set $pa (v128.const i32x4 0 0 0 0))
        (local.set $pb (v128.const i32x4 0 0 0 0))
;;@Q4K_W_CHUNK Q={Q0} XL={X0} XL16={X0o} XH={X2} XH16={X2o}
;;@Q4K_W_CHUNK Q={Q1} XL={X1} XL16={X1o} XH={X3} XH16={X3o}
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.add
            (i32x4.mul (local.get $pa) (i32x4.splat (i8x16.extract_lane_u {SA} (local.get $scv))))
            (i32x4.mul (local.get $pb) (i32x4.splat (i8x16.extract_lane_u {SB} (local.get $scv)))))))
;;#endmacro

  ;; matvec_q4_k_q8_k on a wide Q8_K buffer (widen_q8_k); same arguments, bit-identical outputs.
  (func $matvec_q4_k_q8_kw (export "matvec_q4_k_q8_kw")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $stride i32) (local $xb i32) (local $xd i32) (local $row i32) (local $wp i32) (local $xp i32)
    (local $b i32) (local $u0 i32) (local $u1 i32) (local $u2 i32) (local $dx f32) (local $acc f32)
    (local $scv v128) (local $mn v128) (local $sacc v128) (local $accm v128)
    (local $qa v128) (local $pa v128) (local $pb v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q4_K_BYTES$$)))
    (local.set $xd (i32.add (i32.add (local.get $x_ptr) (i32.shl (local.get $cols) (i32.const 1))) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $xb (i32.add (local.get $x_ptr) (i32.shl (local.get $cols) (i32.const 1))))
        (local.set $acc (f32.const 0))
        (local.set $accm (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@Q4K_SCALES
            (local.set $sacc (v128.const i32x4 0 0 0 0))
;;@Q4K_W_PAIR Q0=16 Q1=32 X0=0 X0o=16 X1=32 X1o=48 X2=64 X2o=80 X3=96 X3o=112 SA=0 SB=1
;;@Q4K_W_PAIR Q0=48 Q1=64 X0=128 X0o=144 X1=160 X1o=176 X2=192 X2o=208 X3=224 X3o=240 SA=2 SB=3
;;@Q4K_W_PAIR Q0=80 Q1=96 X0=256 X0o=272 X1=288 X1o=304 X2=320 X2o=336 X3=352 X3o=368 SA=4 SB=5
;;@Q4K_W_PAIR Q0=112 Q1=128 X0=384 X0o=400 X1=416 X1o=432 X2=448 X2o=464 X3=480 X3o=496 SA=6 SB=7
;;@Q4K_FINISH
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q4_K_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 512)))
            (local.set $xb (i32.add (local.get $xb) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.sub (local.get $acc) (call $hsum_f32 (local.get $accm))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

;; $sacc += sc_g * sum(q6 * q8) for the 16 values in $q (bytes 0..63) and the wide group at $xp+{X} (+{X16} odd).
;;#macro Q6K_W_DOT
        (local.set $sacc (i32x4.add (local.get $sacc)
          (i32x4.mul
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $q) (v128.const i16x8 255 255 255 255 255 255 255 255))
                                 (v128.load offset={X} (local.get $xp)))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $q) (i32.const 8)) (v128.load offset={X16} (local.get $xp))))
            (i32x4.splat (i32.load8_s offset={G} (local.get $wp))))))
;;#endmacro

;;#macro Q6K_W_QUAD
        (local.set $qa (v128.load offset={QA} align=1 (local.get $wp)))
        (local.set $qb (v128.load offset={QB} align=1 (local.get $wp)))
        (local.set $qh (v128.load offset={QH} align=1 (local.get $wp)))
        (local.set $q (v128.or (v128.and (local.get $qa) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 4)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_W_DOT X={X1} X16={X1o} G={G1}
        (local.set $q (v128.or (v128.and (local.get $qb) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shl (local.get $qh) (i32.const 2)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_W_DOT X={X2} X16={X2o} G={G2}
        (local.set $q (v128.or
          (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (local.get $qh) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_W_DOT X={X3} X16={X3o} G={G3}
        (local.set $q (v128.or
          (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
          (v128.and (i16x8.shr_u (local.get $qh) (i32.const 2)) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))))
;;@Q6K_W_DOT X={X4} X16={X4o} G={G4}
;;#endmacro

  ;; matvec_q6_k_q8_k on a wide Q8_K buffer (widen_q8_k); same arguments, bit-identical outputs.
  (func $matvec_q6_k_q8_kw (export "matvec_q6_k_q8_kw")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $stride i32) (local $xb i32) (local $xd i32) (local $row i32) (local $wp i32) (local $xp i32)
    (local $b i32) (local $scv v128) (local $sacc v128) (local $acc f32)
    (local $qa v128) (local $qb v128) (local $qh v128) (local $q v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 8)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const $$Q6_K_BYTES$$)))
    (local.set $xd (i32.add (i32.add (local.get $x_ptr) (i32.shl (local.get $cols) (i32.const 1))) (i32.shl (local.get $nb) (i32.const 5))))
    (local.set $row (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $r1)))
        (local.set $wp (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride))))
        (local.set $xp (local.get $x_ptr))
        (local.set $xb (i32.add (local.get $x_ptr) (i32.shl (local.get $cols) (i32.const 1))))
        (local.set $acc (f32.const 0))
        (local.set $b (i32.const 0))
        (block $sb_done
          (loop $sbs
            (br_if $sb_done (i32.ge_u (local.get $b) (local.get $nb)))
;;@Q6K_BSUM_TERM
;;@Q6K_W_QUAD QA=0 QB=32 QH=128 X1=0 X1o=16 X2=64 X2o=80 X3=128 X3o=144 X4=192 X4o=208 G1=192 G2=194 G3=196 G4=198
;;@Q6K_W_QUAD QA=16 QB=48 QH=144 X1=32 X1o=48 X2=96 X2o=112 X3=160 X3o=176 X4=224 X4o=240 G1=193 G2=195 G3=197 G4=199
;;@Q6K_W_QUAD QA=64 QB=96 QH=160 X1=256 X1o=272 X2=320 X2o=336 X3=384 X3o=400 X4=448 X4o=464 G1=200 G2=202 G3=204 G4=206
;;@Q6K_W_QUAD QA=80 QB=112 QH=176 X1=288 X1o=304 X2=352 X2o=368 X3=416 X3o=432 X4=480 X4o=496 G1=201 G2=203 G3=205 G4=207
;;@Q6K_FINISH
            (local.set $wp (i32.add (local.get $wp) (i32.const $$Q6_K_BYTES$$)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 512)))
            (local.set $xb (i32.add (local.get $xb) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $sbs)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (local.get $acc))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- prefill: several tokens per weight pass

  ;; matmul_*(w, x, out, rows_from, rows_to, cols, n_tok, x_stride, out_stride): for each token t < n_tok,
  ;; out + t*out_stride receives the mat-vec of the activation buffer at x + t*x_stride (the matching Q8_0 or
  ;; Q8_K buffer; strides in bytes), rows [rows_from, rows_to) only. Rows go in blocks of about 16 KiB of weights
  ;; and every token runs over a block before the next one, so the weights come from memory once per call
  ;; (the block stays in L1/L2 across tokens). Each token's rows are computed by the mat-vec kernel itself, so
  ;; the outputs are bit-identical to n_tok separate mat-vecs.
  (type $row_kernel (func (param i32 i32 i32 i32 i32 i32)))
  ;; the 4-token prefill kernels (relaxed build: table entries 9, 10, 11)
  (type $row_kernel4 (func (param i32 i32 i32 i32 i32 i32 i32 i32)))
;;#if RELAXED
  (table $row_kernels 12 12 funcref)
  (elem (table $row_kernels) (i32.const 0) func $matvec_q4_0_q8_0 $matvec_q8_0_q8_0 $matvec_q4_k_q8_k $matvec_q6_k_q8_k
    $matvec_q4_0_q8_0w $matvec_q8_0_q8_0w $matvec_q4_k_q8_kw $matvec_q6_k_q8_kw $matvec_q4_0x4_q8_0
    $matmul4_q4_0x4 $matmul4_q4_k $matmul4_q6_k)
;;#else
  (table $row_kernels 9 9 funcref)
  (elem (table $row_kernels) (i32.const 0) func $matvec_q4_0_q8_0 $matvec_q8_0_q8_0 $matvec_q4_k_q8_k $matvec_q6_k_q8_k
    $matvec_q4_0_q8_0w $matvec_q8_0_q8_0w $matvec_q4_k_q8_kw $matvec_q6_k_q8_kw $matvec_q4_0x4_q8_0)
;;#endif

  ;; $k1: the mat-vec's table index; $k4: a 4-token kernel's (relaxed build), or -1. With a 4-token kernel, tokens go
  ;; 4 at a time through it (each weight chunk unpacked once for the 4 tokens; each token keeps the mat-vec's float
  ;; sequence), the rest one by one through the mat-vec.
  (func $matmul (param $k4 i32) (param $k1 i32) (param $row_bytes i32)
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (local $blk i32) (local $rb i32) (local $re i32) (local $t i32)
    ;; a multiple of 4 rows (the Q4_0 kernel pairs rows, the x4 kernels run groups of 4) of about 16 KiB
    (local.set $blk (i32.and (i32.div_u (i32.const 16384) (local.get $row_bytes)) (i32.const -4)))
    (if (i32.lt_u (local.get $blk) (i32.const 4)) (then (local.set $blk (i32.const 4))))
    (local.set $rb (local.get $r0))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $rb) (local.get $r1)))
        (local.set $re (i32.add (local.get $rb) (local.get $blk)))
        (if (i32.gt_u (local.get $re) (local.get $r1)) (then (local.set $re (local.get $r1))))
        (local.set $t (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.lt_s (local.get $k4) (i32.const 0)))
            (br_if $quads_done (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $ntok)))
            (call_indirect $row_kernels (type $row_kernel4) (local.get $w)
              (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $xs)))
              (i32.add (local.get $out) (i32.mul (local.get $t) (local.get $os)))
              (local.get $rb) (local.get $re) (local.get $cols) (local.get $xs) (local.get $os)
              (local.get $k4))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $quads)))
        (block $tdone
          (loop $toks
            (br_if $tdone (i32.ge_u (local.get $t) (local.get $ntok)))
            (call_indirect $row_kernels (type $row_kernel) (local.get $w)
              (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $xs)))
              (i32.add (local.get $out) (i32.mul (local.get $t) (local.get $os)))
              (local.get $rb) (local.get $re) (local.get $cols)
              (local.get $k1))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $toks)))
        (local.set $rb (local.get $re))
        (br $blocks))))

  (func (export "matmul_q4_0_q8_0")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 0) (i32.mul (i32.shr_u (local.get $cols) (i32.const 5)) (i32.const $$Q4_0_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))


  (func (export "matmul_q4_0x4_q8_0")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul
;;#if RELAXED
      (i32.const 9)
;;#else
      (i32.const -1)
;;#endif
      (i32.const 8) (i32.mul (i32.shr_u (local.get $cols) (i32.const 5)) (i32.const $$Q4_0_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q8_0_q8_0")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 1) (i32.mul (i32.shr_u (local.get $cols) (i32.const 5)) (i32.const $$Q8_0_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q4_0_q8_0w")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 4) (i32.mul (i32.shr_u (local.get $cols) (i32.const 5)) (i32.const $$Q4_0_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q8_0_q8_0w")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 5) (i32.mul (i32.shr_u (local.get $cols) (i32.const 5)) (i32.const $$Q8_0_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q4_k_q8_k")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul
;;#if RELAXED
      (i32.const 10)
;;#else
      (i32.const -1)
;;#endif
      (i32.const 2) (i32.mul (i32.shr_u (local.get $cols) (i32.const 8)) (i32.const $$Q4_K_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q6_k_q8_k")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul
;;#if RELAXED
      (i32.const 11)
;;#else
      (i32.const -1)
;;#endif
      (i32.const 3) (i32.mul (i32.shr_u (local.get $cols) (i32.const 8)) (i32.const $$Q6_K_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q4_k_q8_kw")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 6) (i32.mul (i32.shr_u (local.get $cols) (i32.const 8)) (i32.const $$Q4_K_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  (func (export "matmul_q6_k_q8_kw")
    (param $w i32) (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (param $ntok i32) (param $xs i32) (param $os i32)
    (call $matmul (i32.const -1) (i32.const 7) (i32.mul (i32.shr_u (local.get $cols) (i32.const 8)) (i32.const $$Q6_K_BYTES$$))
      (local.get $w) (local.get $x) (local.get $out) (local.get $r0) (local.get $r1) (local.get $cols)
      (local.get $ntok) (local.get $xs) (local.get $os)))

  ;; ---------------------------------------------------------------- F32

  ;; f32 dot product of n values (any n): 4 accumulators over 16 values, then 4 at a time, then scalars.
  (func $dot_f32 (export "dot_f32") (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $i i32) (local $n16 i32) (local $n4 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $t f32)
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $d16
      (loop $l16
        (br_if $d16 (i32.ge_u (local.get $i) (local.get $n16)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load offset=0 align=4 (local.get $a)) (v128.load offset=0 align=4 (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1)
          (f32x4.mul (v128.load offset=16 align=4 (local.get $a)) (v128.load offset=16 align=4 (local.get $b)))))
        (local.set $s2 (f32x4.add (local.get $s2)
          (f32x4.mul (v128.load offset=32 align=4 (local.get $a)) (v128.load offset=32 align=4 (local.get $b)))))
        (local.set $s3 (f32x4.add (local.get $s3)
          (f32x4.mul (v128.load offset=48 align=4 (local.get $a)) (v128.load offset=48 align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l16)))
    (block $d4
      (loop $l4
        (br_if $d4 (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load align=4 (local.get $a)) (v128.load align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l4)))
    (block $d1
      (loop $l1
        (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $t (f32.add (local.get $t) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l1)))
    (f32.add
      (call $hsum_f32 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
      (local.get $t)))

  (func (export "matvec_f32")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $row i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $row (local.get $r0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (call $dot_f32 (i32.add (local.get $w_ptr) (i32.mul (local.get $row) (local.get $stride)))
                         (local.get $x_ptr) (local.get $cols)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- element-wise and normalisation

  ;; out = x / sqrt(mean(x^2) + eps) * w  (sum of squares in f64 like ggml's ggml_float; any n)
  (func (export "rmsnorm") (param $x i32) (param $w i32) (param $out i32) (param $n i32) (param $eps f32)
    (local $i i32) (local $n4 i32) (local $ss v128) (local $v v128) (local $sum f64) (local $scale f32)
    (local $sv v128) (local $xf f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $v (f32x4.mul (local.tee $v (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
                               (local.get $v)))
      (local.set $ss (f64x2.add (local.get $ss)
        (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
                   (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $ss)) (f64x2.extract_lane 1 (local.get $ss))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $xf (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.mul (local.get $xf) (local.get $xf)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $scale
      (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.demote_f64 (f64.div (local.get $sum) (f64.convert_i32_u (local.get $n))))
                           (local.get $eps)))))
    (local.set $sv (f32x4.splat (local.get $scale)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.mul (f32x4.mul (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
                              (local.get $sv))
                   (v128.load align=4 (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul (f32.mul (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $scale))
                 (f32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; e^x per lane (Cephes expf polynomial, ~1 ulp); x < -87.33 gives exactly 0 (so -inf masks vanish),
  ;; x is clamped at 88 above.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $xc v128)
    (local.set $xc (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33))
                              (v128.const f32x4 88 88 88 88)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $xc)
      (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $xc)
                    (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
                    (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
                             (v128.const f32x4 1 1 1 1)))
    (v128.andnot
      (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (f32x4.lt (local.get $x) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33))))

  (func $exp1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))

  ;; exp of n values in place-capable (out may equal x)
  (func (export "exp_f32") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (call $exp4 (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (call $exp1 (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; out = silu(gate) * up = gate / (1 + e^-gate) * up  (any n; out may alias gate or up)
  (func (export "swiglu") (param $g i32) (param $u i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $v v128) (local $f f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $v (v128.load align=4 (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))))
      (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.mul
          (f32x4.div (local.get $v)
            (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (f32x4.neg (local.get $v)))))
          (v128.load align=4 (i32.add (local.get $u) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $f (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul
          (f32.div (local.get $f) (f32.add (f32.const 1) (call $exp1 (f32.neg (local.get $f)))))
          (f32.load (i32.add (local.get $u) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; in-place softmax of n >= 1 values: e^(x - max) / sum
  (func $softmax (export "softmax") (param $x i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $mx f32) (local $mv v128) (local $sv v128) (local $sum f32)
    (local $e f32) (local $inv f32) (local $v v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $mv (f32x4.splat (f32.const -inf)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $mv (f32x4.max (local.get $mv) (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $mx (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mv)) (f32x4.extract_lane 1 (local.get $mv)))
                            (f32.max (f32x4.extract_lane 2 (local.get $mv)) (f32x4.extract_lane 3 (local.get $mv)))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $mx (f32.max (local.get $mx) (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $mv (f32x4.splat (local.get $mx)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $v (call $exp4 (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
                                           (local.get $mv))))
      (v128.store align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))
      (local.set $sv (f32x4.add (local.get $sv) (local.get $v)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $sum (call $hsum_f32 (local.get $sv)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $e (call $exp1 (f32.sub (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
                                          (local.get $mx))))
      (f32.store (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))) (local.get $e))
      (local.set $sum (f32.add (local.get $sum) (local.get $e)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $inv (f32.div (f32.const 1) (local.get $sum)))
    (local.set $sv (f32x4.splat (local.get $inv)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.mul (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $sv)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $inv)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; ---------------------------------------------------------------- attention helpers (f32 KV cache)

  ;; scores[p] = scale * dot(q, k_ptr + p*k_stride) for p in [0, n_pos); k_stride in bytes.
  (func (export "attn_scores")
    (param $q i32) (param $k i32) (param $out i32) (param $n_pos i32) (param $head_dim i32) (param $k_stride i32)
    (param $scale f32)
    (local $p i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $p) (local.get $n_pos)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 2)))
        (f32.mul (call $dot_f32 (local.get $q) (local.get $k) (local.get $head_dim)) (local.get $scale)))
      (local.set $k (i32.add (local.get $k) (local.get $k_stride)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l))))

  ;; out[d] = sum_p probs[p] * v[p][d] for d in [0, head_dim) (head_dim a multiple of 4); v_stride in bytes.
  (func $attn_values (export "attn_values")
    (param $probs i32) (param $v i32) (param $out i32) (param $n_pos i32) (param $head_dim i32) (param $v_stride i32)
    (local $p i32) (local $d i32) (local $pv v128) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $head_dim) (i32.const 2)))
    (block $z (loop $l
      (br_if $z (i32.ge_u (local.get $d) (local.get $bytes)))
      (v128.store align=4 (i32.add (local.get $out) (local.get $d)) (v128.const i32x4 0 0 0 0))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $l)))
    (block $dp (loop $lp
      (br_if $dp (i32.ge_u (local.get $p) (local.get $n_pos)))
      (local.set $pv (v128.load32_splat (i32.add (local.get $probs) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $d (i32.const 0))
      (block $dd (loop $ld
        (br_if $dd (i32.ge_u (local.get $d) (local.get $bytes)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $d))
          (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $d)))
                     (f32x4.mul (local.get $pv) (v128.load align=4 (i32.add (local.get $v) (local.get $d))))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $ld)))
      (local.set $v (i32.add (local.get $v) (local.get $v_stride)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))
;; ---------------------------------------------------------------- decode-step helpers (one call per step)

  ;; Causal GQA attention of heads [h0, h1) (a row-range kernel, so heads split across threads). p points to
  ;; i32 q, k_cache, v_cache, out, scores, group (heads per KV head), head_dim, n_pos, kv_stride (bytes), f32 scale.
  ;; Head h: scores at scores + 4*h*n_pos (each head its own scratch) = scale * q_h . k_p, in dot_f32's
  ;; float order; then softmax and the weighted V sum of the single-head kernels, so the outputs equal the
  ;; per-head attn_scores / softmax / attn_values calls bit for bit.
  (func (export "attn_heads")
    (param $p i32) (param $unused_x i32) (param $unused_out i32) (param $h0 i32) (param $h1 i32)
    (local $h i32) (local $q i32) (local $kc i32) (local $sc i32) (local $hd i32) (local $np i32) (local $stride i32)
    (local $scale f32) (local $kvo i32) (local $pos i32) (local $k i32) (local $i i32) (local $hd16 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $qa i32)
    (local.set $hd (i32.load offset=24 (local.get $p)))
    (local.set $np (i32.load offset=28 (local.get $p)))
    (local.set $stride (i32.load offset=32 (local.get $p)))
    (local.set $scale (f32.load offset=36 (local.get $p)))
    (local.set $hd16 (i32.and (local.get $hd) (i32.const -16)))
    (local.set $h (local.get $h0))
    (block $hdone (loop $heads
      (br_if $hdone (i32.ge_u (local.get $h) (local.get $h1)))
      (local.set $q (i32.add (i32.load offset=0 (local.get $p)) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2))))
      (local.set $kvo (i32.shl (i32.mul (i32.div_u (local.get $h) (i32.load offset=20 (local.get $p))) (local.get $hd))
                               (i32.const 2)))
      (local.set $sc (i32.add (i32.load offset=16 (local.get $p)) (i32.shl (i32.mul (local.get $h) (local.get $np)) (i32.const 2))))
      (local.set $kc (i32.add (i32.load offset=4 (local.get $p)) (local.get $kvo)))
      (local.set $pos (i32.const 0))
      (block $pdone (loop $positions
        (br_if $pdone (i32.ge_u (local.get $pos) (local.get $np)))
        (if (i32.eq (local.get $hd16) (local.get $hd))
          (then
            ;; dot_f32's 16-value loop inlined (same accumulators, same order)
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $s2 (v128.const i32x4 0 0 0 0))
            (local.set $s3 (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (local.set $qa (local.get $q))
            (local.set $k (local.get $kc))
            (block $ddone (loop $dots
              (br_if $ddone (i32.ge_u (local.get $i) (local.get $hd16)))
              (local.set $s0 (f32x4.add (local.get $s0)
                (f32x4.mul (v128.load offset=0 align=4 (local.get $qa)) (v128.load offset=0 align=4 (local.get $k)))))
              (local.set $s1 (f32x4.add (local.get $s1)
                (f32x4.mul (v128.load offset=16 align=4 (local.get $qa)) (v128.load offset=16 align=4 (local.get $k)))))
              (local.set $s2 (f32x4.add (local.get $s2)
                (f32x4.mul (v128.load offset=32 align=4 (local.get $qa)) (v128.load offset=32 align=4 (local.get $k)))))
              (local.set $s3 (f32x4.add (local.get $s3)
                (f32x4.mul (v128.load offset=48 align=4 (local.get $qa)) (v128.load offset=48 align=4 (local.get $k)))))
              (local.set $qa (i32.add (local.get $qa) (i32.const 64)))
              (local.set $k (i32.add (local.get $k) (i32.const 64)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $dots)))
            (f32.store (i32.add (local.get $sc) (i32.shl (local.get $pos) (i32.const 2)))
              (f32.mul
                (f32.add
                  (call $hsum_f32 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
                  (f32.const 0))
                (local.get $scale))))
          (else
            (f32.store (i32.add (local.get $sc) (i32.shl (local.get $pos) (i32.const 2)))
              (f32.mul (call $dot_f32 (local.get $q) (local.get $kc) (local.get $hd)) (local.get $scale)))))
        (local.set $kc (i32.add (local.get $kc) (local.get $stride)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (br $positions)))
      (call $softmax (local.get $sc) (local.get $np))
      (call $attn_values (local.get $sc) (i32.add (i32.load offset=8 (local.get $p)) (local.get $kvo))
        (i32.add (i32.load offset=12 (local.get $p)) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2)))
        (local.get $np) (local.get $hd) (local.get $stride))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $heads))))

  ;; RoPE (NORM: adjacent pairs) of n_heads heads at v by the table at cs (head_dim/2 cos, then head_dim/2 sin):
  ;; (a, b) -> (a*cos - b*sin, a*sin + b*cos), every product and sum rounded to f32 as the scalar form does.
  (func (export "rope") (param $v i32) (param $n_heads i32) (param $head_dim i32) (param $cs i32)
    (local $h i32) (local $i i32) (local $half i32) (local $base i32) (local $x v128) (local $c v128) (local $s v128)
    (local $a f32) (local $b f32) (local $cf f32) (local $sf f32)
    (local.set $half (i32.shr_u (local.get $head_dim) (i32.const 1)))
    (block $hdone (loop $heads
      (br_if $hdone (i32.ge_u (local.get $h) (local.get $n_heads)))
      (local.set $base (i32.add (local.get $v) (i32.shl (i32.mul (local.get $h) (local.get $head_dim)) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $pdone (loop $pairs
        (br_if $pdone (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $half)))
        ;; two pairs: x = [a0 b0 a1 b1], c = [c0 c0 c1 c1], s = [s0 s0 s1 s1]
        (local.set $x (v128.load align=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $c (v128.load64_zero align=4 (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $c (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $c) (local.get $c)))
        (local.set $s (v128.load64_zero align=4
          (i32.add (local.get $cs) (i32.shl (i32.add (local.get $half) (local.get $i)) (i32.const 2)))))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $s) (local.get $s)))
        ;; [a0c0 b0c0 a1c1 b1c1] + [-b0s0 a0s0 -b1s1 a1s1] (negation is exact)
        (v128.store align=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))
          (f32x4.add (f32x4.mul (local.get $x) (local.get $c))
            (v128.xor
              (f32x4.mul (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $x) (local.get $x)) (local.get $s))
              (v128.const i32x4 0x80000000 0 0x80000000 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
      (block $tdone (loop $tail
        (br_if $tdone (i32.ge_u (local.get $i) (local.get $half)))
        (local.set $a (f32.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $b (f32.load offset=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $cf (f32.load (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $sf (f32.load (i32.add (local.get $cs) (i32.shl (i32.add (local.get $half) (local.get $i)) (i32.const 2)))))
        (f32.store (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))
          (f32.sub (f32.mul (local.get $a) (local.get $cf)) (f32.mul (local.get $b) (local.get $sf))))
        (f32.store offset=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))
          (f32.add (f32.mul (local.get $a) (local.get $sf)) (f32.mul (local.get $b) (local.get $cf))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $heads))))

  ;; y[i] += x[i] for n values (f32)
  (func (export "add_f32") (param $y i32) (param $x i32) (param $n i32)
    (local $i i32) (local $n4 i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (v128.store align=4 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.add (v128.load align=4 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
                   (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))
        (f32.add (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
                 (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; Index of the largest of n >= 1 f32 at x, the lowest index on ties (as a scalar "v > best" scan from index 0;
  ;; NaNs are skipped, and a NaN at index 0 gives 0).
  (func (export "argmax_f32") (param $x i32) (param $n i32) (result i32)
    (local $i i32) (local $n4 i32) (local $m v128) (local $mx f32) (local $v f32)
    (local.set $mx (f32.load (local.get $x)))
    (if (f32.ne (local.get $mx) (local.get $mx)) (then (return (i32.const 0))))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $m (f32x4.splat (local.get $mx)))
    ;; pmax(m, v) = m < v ? v : m keeps m when v is NaN
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $m (f32x4.pmax (local.get $m) (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
      (if (f32.gt (local.get $v) (local.get $mx)) (then (local.set $mx (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $v (f32x4.extract_lane 0 (local.get $m)))
    (if (f32.gt (local.get $v) (local.get $mx)) (then (local.set $mx (local.get $v))))
    (local.set $v (f32x4.extract_lane 1 (local.get $m)))
    (if (f32.gt (local.get $v) (local.get $mx)) (then (local.set $mx (local.get $v))))
    (local.set $v (f32x4.extract_lane 2 (local.get $m)))
    (if (f32.gt (local.get $v) (local.get $mx)) (then (local.set $mx (local.get $v))))
    (local.set $v (f32x4.extract_lane 3 (local.get $m)))
    (if (f32.gt (local.get $v) (local.get $mx)) (then (local.set $mx (local.get $v))))
    ;; the first index holding the maximum (== also matches -0 for +0, as the scalar scan keeps the first zero)
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (if (f32.eq (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $mx))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.const 0))
)
