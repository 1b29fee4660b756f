package io.earnidle.node.gguf;

/**
 * One tensor's descriptor. {@code ne} uses ggml order (ne[0] is the fastest-varying dimension, so a matrix
 * with ne=[in, out] is stored as {@code out} rows of {@code in} values). {@code offset} is absolute in the file
 * (read the bytes through {@link GgufFile#data}).
 */
public record GgufTensorInfo(String name, long[] ne, GgmlType type, long offset, long byteSize) {
    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }
}
