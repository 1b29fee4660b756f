package io.earnidle.node.gguf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a GGUF v3 file, in memory ({@link #toBytes()}) or streamed ({@link #writeTo}, with tensors given as
 * {@link TensorStream}s so a multi-GiB model never sits in memory). Deterministic: the same calls produce the same
 * bytes.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<String> tensorNames = new ArrayList<>();
    private final List<long[]> tensorShapes = new ArrayList<>();
    private final List<GgmlType> tensorTypes = new ArrayList<>();
    private final List<Object> tensorData = new ArrayList<>(); // byte[] or TensorStream

    /** Writes exactly the tensor's byte size of data when asked. */
    public interface TensorStream {
        void write(java.io.OutputStream out) throws java.io.IOException;
    }

    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValue.string(v));
    }

    public GgufWriter putUInt32(String key, long v) {
        return put(key, GgufValue.uint32(v));
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValue.float32(v));
    }

    public GgufWriter putStrings(String key, String[] v) {
        return put(key, GgufValue.array(new GgufArray(GgufValue.STRING, v)));
    }

    public GgufWriter putInt32s(String key, int[] v) {
        return put(key, GgufValue.array(new GgufArray(GgufValue.INT32, v)));
    }

    private int alignment() {
        GgufValue a = metadata.get("general.alignment");
        return a == null ? GgufFile.DEFAULT_ALIGNMENT : (int) a.asLong();
    }

    public GgufWriter addTensor(String name, long[] ne, GgmlType type, byte[] raw) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (type.byteSize(n) != raw.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + raw.length + " bytes, expected " + type.byteSize(n));
        }
        tensorNames.add(name);
        tensorShapes.add(ne.clone());
        tensorTypes.add(type);
        tensorData.add(raw);
        return this;
    }

    /** Declares a tensor whose {@code type.byteSize(elements)} bytes {@code data} writes during {@link #writeTo}. */
    public GgufWriter addTensor(String name, long[] ne, GgmlType type, TensorStream data) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + ne[0] + " values do not fit " + type);
        }
        type.byteSize(n);
        tensorNames.add(name);
        tensorShapes.add(ne.clone());
        tensorTypes.add(type);
        tensorData.add(data);
        return this;
    }

    private static long elements(long[] ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    public GgufWriter addF32(String name, long[] ne, float[] values) {
        LeBytes b = new LeBytes(values.length * 4);
        for (float v : values) {
            b.i32(Float.floatToRawIntBits(v));
        }
        return addTensor(name, ne, GgmlType.F32, b.toArray());
    }

    public GgufWriter addF16(String name, long[] ne, float[] values) {
        LeBytes b = new LeBytes(values.length * 2);
        for (float v : values) {
            b.i16(Half.fromFloat(v));
        }
        return addTensor(name, ne, GgmlType.F16, b.toArray());
    }

    public byte[] toBytes() {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try {
            writeTo(bos);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return bos.toByteArray();
    }

    /** Streams the file: header, then each tensor's data at its aligned offset. */
    public void writeTo(java.io.OutputStream out) throws java.io.IOException {
        int alignment = alignment();
        LeBytes b = new LeBytes(1 << 16);
        b.i32(GgufFile.MAGIC);
        b.i32(3);
        b.i64(tensorNames.size());
        b.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            b.str(e.getKey());
            b.i32(e.getValue().type());
            writeValue(b, e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        long[] offsets = new long[tensorNames.size()];
        long[] sizes = new long[tensorNames.size()];
        for (int i = 0; i < tensorNames.size(); i++) {
            offsets[i] = offset;
            sizes[i] = tensorTypes.get(i).byteSize(elements(tensorShapes.get(i)));
            offset = GgufFile.alignUp(offset + sizes[i], alignment);
        }
        for (int i = 0; i < tensorNames.size(); i++) {
            b.str(tensorNames.get(i));
            long[] ne = tensorShapes.get(i);
            b.i32(ne.length);
            for (long d : ne) {
                b.i64(d);
            }
            b.i32(tensorTypes.get(i).id());
            b.i64(offsets[i]);
        }
        b.padTo(alignment);
        out.write(b.a, 0, b.n);
        long pos = 0;
        byte[] zeros = new byte[alignment];
        for (int i = 0; i < tensorNames.size(); i++) {
            out.write(zeros, 0, (int) (offsets[i] - pos));
            Object d = tensorData.get(i);
            if (d instanceof byte[] raw) {
                out.write(raw);
            } else {
                CountingStream cs = new CountingStream(out);
                ((TensorStream) d).write(cs);
                if (cs.count != sizes[i]) {
                    throw new IllegalStateException("tensor " + tensorNames.get(i) + ": wrote " + cs.count
                            + " bytes, expected " + sizes[i]);
                }
            }
            pos = offsets[i] + sizes[i];
        }
    }

    private static final class CountingStream extends java.io.FilterOutputStream {
        long count;

        CountingStream(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void write(int v) throws java.io.IOException {
            out.write(v);
            count++;
        }

        @Override
        public void write(byte[] v, int off, int len) throws java.io.IOException {
            out.write(v, off, len);
            count += len;
        }
    }

    private static void writeValue(LeBytes b, int type, Object v) {
        switch (type) {
            case GgufValue.UINT8, GgufValue.INT8 -> b.i8(((Number) v).intValue());
            case GgufValue.UINT16, GgufValue.INT16 -> b.i16(((Number) v).intValue());
            case GgufValue.UINT32, GgufValue.INT32 -> b.i32(((Number) v).intValue());
            case GgufValue.FLOAT32 -> b.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case GgufValue.BOOL -> b.i8(((Boolean) v) ? 1 : 0);
            case GgufValue.STRING -> b.str((String) v);
            case GgufValue.UINT64, GgufValue.INT64 -> b.i64(((Number) v).longValue());
            case GgufValue.FLOAT64 -> b.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case GgufValue.ARRAY -> writeArray(b, (GgufArray) v);
            default -> throw new IllegalArgumentException("unknown value type " + type);
        }
    }

    private static void writeArray(LeBytes b, GgufArray a) {
        int et = a.elementType();
        b.i32(et);
        b.i64(a.length());
        switch (a.data()) {
            case byte[] x -> b.bytes(x);
            case short[] x -> { for (short s : x) b.i16(s); }
            case int[] x -> { for (int s : x) b.i32(s); }
            case long[] x -> {
                for (long s : x) {
                    if (et == GgufValue.UINT32) b.i32((int) s); else b.i64(s);
                }
            }
            case float[] x -> { for (float s : x) b.i32(Float.floatToRawIntBits(s)); }
            case double[] x -> { for (double s : x) b.i64(Double.doubleToRawLongBits(s)); }
            case String[] x -> { for (String s : x) b.str(s); }
            case Utf8Strings x -> { for (int i = 0; i < x.size(); i++) b.str(x.get(i)); }
            case GgufArray[] x -> { for (GgufArray s : x) writeArray(b, s); }
            default -> throw new IllegalArgumentException("bad array data");
        }
    }

    /** Growable little-endian byte sink. */
    static final class LeBytes {
        private byte[] a;
        private int n;

        LeBytes(int capacity) {
            a = new byte[Math.max(16, capacity)];
        }

        private void ensure(int extra) {
            if (n + extra > a.length) {
                byte[] b = new byte[Math.max(a.length * 2, n + extra)];
                System.arraycopy(a, 0, b, 0, n);
                a = b;
            }
        }

        int size() {
            return n;
        }

        void i8(int v) {
            ensure(1);
            a[n++] = (byte) v;
        }

        void i16(int v) {
            ensure(2);
            a[n++] = (byte) v;
            a[n++] = (byte) (v >> 8);
        }

        void i32(int v) {
            ensure(4);
            for (int i = 0; i < 4; i++) {
                a[n++] = (byte) (v >> (8 * i));
            }
        }

        void i64(long v) {
            ensure(8);
            for (int i = 0; i < 8; i++) {
                a[n++] = (byte) (v >> (8 * i));
            }
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, a, n, b.length);
            n += b.length;
        }

        void str(String s) {
            byte[] u = Utf8.encode(s);
            i64(u.length);
            bytes(u);
        }

        void padTo(int alignment) {
            while (n % alignment != 0) {
                i8(0);
            }
        }

        byte[] toArray() {
            byte[] r = new byte[n];
            System.arraycopy(a, 0, r, 0, n);
            return r;
        }
    }
}
