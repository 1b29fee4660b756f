package io.earnidle.node.gguf;

/**
 * A GGUF metadata array. {@code data} is byte[] (uint8/int8/bool), short[] (uint16/int16), int[] (int32),
 * long[] (uint32/uint64/int64), float[], double[], {@link Utf8Strings} or String[] (strings; the reader gives
 * Utf8Strings, which holds a vocabulary in one byte array), or GgufArray[] for nested arrays.
 */
public record GgufArray(int elementType, Object data) {
    public int length() {
        return switch (data) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case String[] a -> a.length;
            case Utf8Strings a -> a.size();
            case GgufArray[] a -> a.length;
            default -> throw new IllegalStateException("bad array data");
        };
    }

    /** The strings as String objects (decoded anew on each call for a {@link Utf8Strings} array). */
    public String[] strings() {
        if (data instanceof String[] s) {
            return s;
        }
        return utf8Strings().toArray();
    }

    /** The strings in compact UTF-8 form (no copy when the array was read from a file). */
    public Utf8Strings utf8Strings() {
        if (data instanceof Utf8Strings s) {
            return s;
        }
        if (data instanceof String[] s) {
            return Utf8Strings.of(s);
        }
        throw new GgufFormatException("array of " + GgufValue.typeName(elementType) + " is not an array of strings");
    }

    /** Integer elements widened to int (for token types and similar small values). */
    public int[] ints() {
        int n = length();
        int[] out = new int[n];
        switch (data) {
            case byte[] a -> { for (int i = 0; i < n; i++) out[i] = elementType == GgufValue.UINT8 ? a[i] & 0xFF : a[i]; }
            case short[] a -> { for (int i = 0; i < n; i++) out[i] = elementType == GgufValue.UINT16 ? a[i] & 0xFFFF : a[i]; }
            case int[] a -> System.arraycopy(a, 0, out, 0, n);
            case long[] a -> { for (int i = 0; i < n; i++) out[i] = (int) a[i]; }
            default -> throw new GgufFormatException("array of " + GgufValue.typeName(elementType) + " is not an integer array");
        }
        return out;
    }
}
