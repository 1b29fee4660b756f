package io.earnidle.node.llama.ops;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufTensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A 2-D weight tensor as a read-only view on the model file's bytes (no copy, no dequantization up front):
 * {@code rows} rows of {@code cols} values (ggml ne = [cols, rows]), each row {@link #rowBytes()} bytes of
 * {@code type} blocks, row r at byte {@code offset + r * rowBytes} of {@code data}.
 */
public final class WeightMatrix {
    private final String name;
    private final ByteBuffer data;
    private final int offset;
    private final GgmlType type;
    private final int cols;
    private final int rows;
    private final int rowBytes;

    public WeightMatrix(String name, ByteBuffer data, int offset, GgmlType type, int cols, int rows) {
        if (cols <= 0 || rows <= 0 || cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": " + rows + " rows of " + cols + " values do not fit "
                    + type + " blocks of " + type.blockSize());
        }
        long rb = type.byteSize(cols);
        if (offset < 0 || (long) offset + rb * rows > data.limit()) {
            throw new IllegalArgumentException(name + ": data [" + offset + ", " + (offset + rb * rows)
                    + ") outside a buffer of " + data.limit() + " bytes");
        }
        this.name = name;
        this.data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.offset = offset;
        this.type = type;
        this.cols = cols;
        this.rows = rows;
        this.rowBytes = (int) rb;
    }

    /** A view of a 2-D (or 1-D, as one row) GGUF tensor of {@code file}. */
    public static WeightMatrix of(GgufTensorInfo t, io.earnidle.node.gguf.GgufFile file) {
        io.earnidle.node.gguf.GgufFile.TensorBytes b = file.data(t);
        long[] ne = t.ne();
        long rows = 1;
        for (int i = 1; i < ne.length; i++) {
            rows *= ne[i];
        }
        return new WeightMatrix(t.name(), b.buffer(), b.offset(), t.type(), (int) ne[0], (int) rows);
    }

    /** A view of a 2-D (or 1-D, as one row) GGUF tensor stored in {@code file} (the whole file's bytes). */
    public static WeightMatrix of(GgufTensorInfo t, ByteBuffer file) {
        long[] ne = t.ne();
        long rows = 1;
        for (int i = 1; i < ne.length; i++) {
            rows *= ne[i];
        }
        return new WeightMatrix(t.name(), file, (int) t.offset(), t.type(), (int) ne[0], (int) rows);
    }

    public String name() {
        return name;
    }

    public ByteBuffer data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    public GgmlType type() {
        return type;
    }

    public int cols() {
        return cols;
    }

    public int rows() {
        return rows;
    }

    public int rowBytes() {
        return rowBytes;
    }

    public int rowOffset(int row) {
        return offset + row * rowBytes;
    }
}
