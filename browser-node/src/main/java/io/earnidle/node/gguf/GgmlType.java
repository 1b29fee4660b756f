package io.earnidle.node.gguf;

/**
 * Tensor element types this node understands (ids as in ggml.h): the one source of their ids and block sizes. The
 * other places that know them (quant_common.wgsl's FMT_* constants and tables, the kernel runner's formats.js,
 * cpu-glue.js, the block sizes of simd-kernels.wat) are checked against this enum by GgmlFormatsTest.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    public int id() {
        return id;
    }

    public int blockSize() {
        return blockSize;
    }

    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Bytes needed for {@code elements} values; the count must be a multiple of the block size. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new GgufFormatException("tensor of type " + name() + " has " + elements
                    + " elements, not a multiple of its block size " + blockSize);
        }
        return elements / blockSize * bytesPerBlock;
    }

    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new GgufFormatException("unsupported tensor type id " + id + " (supported: F32=0, F16=1, Q4_0=2, Q4_1=3, Q8_0=8, Q4_K=12, Q6_K=14, BF16=30)");
    }
}
