package io.earnidle.kernels.simd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Java reference for the quantized formats, written from ggml's ggml-quants.c / ggml-common.h:
 * {@code block_q4_0 {ggml_half d; uint8_t qs[16];}} (element j = d*((qs[j] & 15) - 8), element j+16 =
 * d*((qs[j] >> 4) - 8)), {@code block_q8_0 {ggml_half d; int8_t qs[32];}}, and quantize_row_q8_0_ref
 * (d = amax/127, id = d ? 1/d : 0, qs = roundf(x*id), d stored as f16). The activation side uses the kernels'
 * Q8 activation buffer layout: i8 qs[nb*32] | f32 d[nb] (the f16-rounded scale) | i32 sum(qs)[nb].
 */
final class GgmlReference {
  static final int QK = 32;
  static final int Q4_0_BYTES = 18;
  static final int Q8_0_BYTES = 34;

  private GgmlReference() {}

  static float f16(short h) {
    return Float.float16ToFloat(h);
  }

  static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** C roundf: round half away from zero. */
  static float roundf(float v) {
    double r = Math.floor(Math.abs((double) v) + 0.5);
    return (float) Math.copySign(r, v);
  }

  /** quantize_row_q8_0_ref into the Q8 activation buffer layout (n a multiple of 32). */
  static byte[] quantizeQ8Activations(float[] x) {
    int nb = x.length / QK;
    byte[] out = new byte[nb * 40];
    ByteBuffer bb = le(out);
    for (int b = 0; b < nb; b++) {
      float amax = 0;
      for (int j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
      float d = amax / 127f;
      float id = d != 0 ? 1.0f / d : 0.0f;
      int sum = 0;
      for (int j = 0; j < QK; j++) {
        int q = (int) roundf(x[b * QK + j] * id);
        out[b * QK + j] = (byte) q;
        sum += q;
      }
      bb.putFloat(nb * QK + 4 * b, f16(Float.floatToFloat16(d)));
      bb.putInt(nb * 36 + 4 * b, sum);
    }
    return out;
  }

  /** ggml_vec_dot_q4_0_q8_0 (generic) per row, each block term sumi * (d_w * d_x), summed in double. */
  static double[] matvecQ4_0(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
    return matvec(w, xq, rows, cols, Q4_0_BYTES, magnitude, (p, xo) -> {
      int sumi = 0;
      for (int j = 0; j < 16; j++) {
        int q = w[p + 2 + j] & 0xff;
        sumi += ((q & 15) - 8) * xq[xo + j] + ((q >> 4) - 8) * xq[xo + j + 16];
      }
      return sumi;
    });
  }

  /** ggml_vec_dot_q8_0_q8_0 (generic) per row. */
  static double[] matvecQ8_0(byte[] w, byte[] xq, int rows, int cols, double[] magnitude) {
    return matvec(w, xq, rows, cols, Q8_0_BYTES, magnitude, (p, xo) -> {
      int sumi = 0;
      for (int j = 0; j < QK; j++) sumi += w[p + 2 + j] * xq[xo + j];
      return sumi;
    });
  }

  /** Integer dot product of the weight block at byte p with the activation block whose qs start at xo. */
  private interface BlockDot {
    int dot(int p, int xo);
  }

  /** Rows of blocks (f16 d first): sum over blocks of sumi * (d_w * d_x) in double; magnitude = sum of |terms|. */
  private static double[] matvec(byte[] w, byte[] xq, int rows, int cols, int blockBytes, double[] magnitude,
      BlockDot blockDot) {
    int nb = cols / QK;
    ByteBuffer wb = le(w);
    ByteBuffer xb = le(xq);
    double[] y = new double[rows];
    for (int r = 0; r < rows; r++) {
      double sum = 0, mag = 0;
      for (int b = 0; b < nb; b++) {
        int p = (r * nb + b) * blockBytes;
        double t = blockDot.dot(p, b * QK) * (double) (f16(wb.getShort(p)) * xb.getFloat(nb * QK + 4 * b));
        sum += t;
        mag += Math.abs(t);
      }
      y[r] = sum;
      magnitude[r] = mag;
    }
    return y;
  }

  /** Random blocks: f16 scale in [scaleLo, scaleHi) (random sign when signed), then random payload bytes. */
  static byte[] randomBlocks(SplittableRandom rnd, int blocks, int blockBytes, double scaleLo, double scaleHi,
      boolean signedScale) {
    byte[] w = new byte[blocks * blockBytes];
    ByteBuffer bb = le(w);
    for (int b = 0; b < blocks; b++) {
      double s = scaleLo + rnd.nextDouble() * (scaleHi - scaleLo);
      if (signedScale && rnd.nextBoolean()) s = -s;
      bb.putShort(b * blockBytes, Float.floatToFloat16((float) s));
      for (int j = 2; j < blockBytes; j++) w[b * blockBytes + j] = (byte) rnd.nextInt(256);
    }
    return w;
  }
}
