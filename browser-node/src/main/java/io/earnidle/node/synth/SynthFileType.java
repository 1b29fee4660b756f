package io.earnidle.node.synth;

import io.earnidle.node.gguf.GgmlType;

/**
 * The weight formats the synthesizer writes (llama.cpp's {@code general.file_type} numbers). Norm vectors and
 * {@code rope_freqs} are always F32, as in llama.cpp. A matrix whose rows do not fit the chosen block size falls
 * back to Q8_0 (rows a multiple of 32) or F16.
 *
 * <p>{@code Q4_K_M} follows llama-quantize's choice: Q6_K for the output matrix (token_embd when tied, since it is
 * the output), and for attn_v and ffn_down in the "more bits" layers (the first and last eighth of the layers and
 * every third layer between); Q4_K for every other matrix (and token_embd when untied).
 */
public enum SynthFileType {
    F32(0, GgmlType.F32),
    F16(1, GgmlType.F16),
    BF16(32, GgmlType.BF16),
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q8_0(7, GgmlType.Q8_0),
    Q4_K_M(15, GgmlType.Q4_K),
    /** Every matrix Q6_K (not a llama.cpp file type name; llama.cpp calls it Q6_K = 18). */
    Q6_K(18, GgmlType.Q6_K);

    final int fileType;
    final GgmlType base;

    SynthFileType(int fileType, GgmlType base) {
        this.fileType = fileType;
        this.base = base;
    }

    public static SynthFileType named(String s) {
        for (SynthFileType t : values()) {
            if (t.name().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown type '" + s + "' (known: f32, f16, bf16, q8_0, q4_0, q4_1, q4_k_m, q6_k)");
    }

    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** The tensor type for a matrix named {@code name} (layer -1 for non-layer tensors) with rows of {@code cols}. */
    GgmlType typeFor(String name, int layer, int layers, boolean tied, int cols) {
        GgmlType t = base;
        if (this == Q4_K_M) {
            boolean output = name.equals("output.weight") || (tied && name.equals("token_embd.weight"));
            boolean more = layer >= 0 && (name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight"))
                    && moreBits(layer, layers);
            if (output || more) {
                t = GgmlType.Q6_K;
            }
        }
        if (cols % t.blockSize() != 0) {
            t = cols % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16;
            if (base == GgmlType.F32) {
                t = GgmlType.F32;
            }
        }
        return t;
    }
}
