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
;; Integer block sums are exact in both variants and combined in one fixed float order, so the plain and
;; relaxed builds give bit-identical quantized mat-vec outputs, and any row split gives the same rows.
;; f16 scales must be finite (Inf/NaN f16 scales are not decoded).
(module
  (import "env" "memory" (memory $mem 1 65536 $$SHARED$$))

  ;; ---------------------------------------------------------------- helpers

  (func $h2f (param $h i32) (result f32)
    (f32.reinterpret_i32
      (i32.or
        (i32.reinterpret_f32
          (f32.mul (f32.reinterpret_i32 (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)))
                   (f32.const 0x1p112)))
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
;;#macro BLK_Q4_0
        (local.set $q (v128.load offset={W} align=1 (local.get $wp)))
        (local.set $lo (v128.and (local.get $q) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (i8x16.shr_u (local.get $q) (i32.const 4)))
        (local.set $y0 (v128.load offset={X} (local.get $xp)))
        (local.set $y1 (v128.load offset={X16} (local.get $xp)))
;;#if RELAXED
        ;; the second operand (0..15) fits relaxed_dot's 7-bit requirement: exact and deterministic everywhere
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
        (local.set $hi (i8x16.shr_u (local.get $q) (i32.const 4)))
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
            (local.set {P} (i32.add (local.get {P}) (i32.const 18)))
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
              (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y1) (i8x16.shr_u (local.get $w1) (i32.const 7))
                (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $y0) (i8x16.shr_u (local.get $w0) (i32.const 7))
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

;; {OUT} = f32x4 of the f16 scales at {P}+0, {P}+{S1}, {P}+{S2}, {P}+{S3}
;;#macro H2F4
        (local.set $hv (v128.load16_lane offset=0 0 (local.get {P}) (v128.const i32x4 0 0 0 0)))
        (local.set $hv (v128.load16_lane offset={S1} 2 (local.get {P}) (local.get $hv)))
        (local.set $hv (v128.load16_lane offset={S2} 4 (local.get {P}) (local.get $hv)))
        (local.set $hv (v128.load16_lane offset={S3} 6 (local.get {P}) (local.get $hv)))
        (local.set {OUT}
          (v128.or
            (f32x4.mul
              (i32x4.shl (v128.and (local.get $hv) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
              (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
            (i32x4.shl (v128.and (local.get $hv) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))
;;#endmacro

  ;; ---------------------------------------------------------------- Q4_0 x Q8_0

  ;; out[r] = dot(row r of the Q4_0 matrix at w_ptr, activations) for r in [rows_from, rows_to);
  ;; x_q8_ptr is a Q8 activation buffer of cols values (cols a multiple of 32).
  (func (export "matvec_q4_0_q8_0")
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
    (local.set $stride (i32.mul (local.get $nb) (i32.const 18)))
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
            (local.set $wp (i32.add (local.get $wp) (i32.const 18)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------- Q8_0 x Q8_0

  (func (export "matvec_q8_0_q8_0")
    (param $w_ptr i32) (param $x_ptr i32) (param $out_ptr i32) (param $r0 i32) (param $r1 i32) (param $cols i32)
    (local $nb i32) (local $nb4 i32) (local $stride i32) (local $xd i32)
    (local $row i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $acc v128) (local $t v128) (local $sc v128) (local $tail f32)
    (local $q v128) (local $lo v128) (local $hi v128) (local $y0 v128) (local $y1 v128) (local $w0 v128) (local $w1 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ab v128) (local $cd v128) (local $hv v128)
    (local.set $nb (i32.shr_u (local.get $cols) (i32.const 5)))
    (local.set $nb4 (i32.and (local.get $nb) (i32.const -4)))
    (local.set $stride (i32.mul (local.get $nb) (i32.const 34)))
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
            (local.set $wp (i32.add (local.get $wp) (i32.const 34)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $tail_loop)))
        (f32.store (i32.add (local.get $out_ptr) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (call $hsum_f32 (local.get $acc)) (local.get $tail)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

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
  (func (export "softmax") (param $x i32) (param $n i32)
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
  (func (export "attn_values")
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
)
