package io.earnidle.node.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A parsed GGUF (v2/v3) file over a little-endian ByteBuffer; tensor data stays in the buffer. */
public final class GgufFile {
    public static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final int dataOffset;
    private final ByteBuffer buffer;
    private final long fileSize;
    private final TensorMapper mapper;
    private final Map<String, ByteBuffer> mapped = new HashMap<>();

    /** Gives the bytes [offset, offset + size) of a file too large for one buffer (JVM: a memory mapping). */
    public interface TensorMapper {
        ByteBuffer map(long offset, int size);
    }

    /** Where a tensor's bytes are: {@code buffer} (little-endian) from index {@code offset}. */
    public record TensorBytes(ByteBuffer buffer, int offset) {
    }

    private GgufFile(int version, Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, int alignment,
                     int dataOffset, ByteBuffer buffer, long fileSize, TensorMapper mapper) {
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableList(tensors);
        this.tensorsByName = new HashMap<>();
        for (GgufTensorInfo t : tensors) {
            tensorsByName.put(t.name(), t);
        }
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.buffer = buffer;
        this.fileSize = fileSize;
        this.mapper = mapper;
    }

    public static GgufFile read(byte[] bytes) {
        return read(ByteBuffer.wrap(bytes));
    }

    /** Parses the header; the buffer's content from position 0 to its limit is the whole file. */
    public static GgufFile read(ByteBuffer source) {
        return read(source, -1, null);
    }

    /**
     * Parses a file of {@code fileSize} bytes whose header lies in {@code prefix} (its first bytes); tensor data is
     * fetched through {@code mapper}, one region per tensor, so files over 2 GiB work (each tensor under 2 GiB).
     * With {@code mapper} null, {@code prefix} is the whole file and {@code fileSize} is ignored.
     */
    public static GgufFile read(ByteBuffer source, long fileSize, TensorMapper mapper) {
        ByteBuffer buf = source.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        buf.position(0);
        Reader r = new Reader(buf);
        if (buf.limit() < 4) {
            throw new GgufFormatException("truncated file: " + buf.limit() + " bytes, no GGUF magic");
        }
        long size = mapper == null ? buf.limit() : fileSize;
        if (size < buf.limit()) {
            throw new IllegalArgumentException("file size " + fileSize + " smaller than the header buffer");
        }
        int magic = r.i32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException("bad magic 0x" + Integer.toHexString(magic) + ": not a GGUF file");
        }
        int version = r.i32("version");
        if (version != 2 && version != 3) {
            throw new GgufFormatException("unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        long tensorCount = r.i64("tensor count");
        long kvCount = r.i64("metadata count");
        // every metadata entry needs at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8+4+8+4+8
        if (kvCount < 0 || kvCount > r.remaining() / 13) {
            throw new GgufFormatException("metadata count " + Long.toUnsignedString(kvCount)
                    + " too large for a file of " + size + " bytes");
        }
        if (tensorCount < 0 || tensorCount > r.remaining() / 32) {
            throw new GgufFormatException("tensor count " + Long.toUnsignedString(tensorCount)
                    + " too large for a file of " + size + " bytes");
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string("metadata key #" + i);
            int type = r.i32("type of " + key);
            GgufValue value = r.value(type, key, 0);
            if (metadata.put(key, value) != null) {
                throw new GgufFormatException("duplicate metadata key " + key);
            }
        }
        int alignment = DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get("general.alignment");
        if (a != null) {
            long al = a.asLong();
            if (al <= 0 || al > 1 << 20 || (al & (al - 1)) != 0) {
                throw new GgufFormatException("general.alignment " + al + " is not a power of two in 1..1048576");
            }
            alignment = (int) al;
        }
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<GgmlType> types = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = r.string("tensor name #" + i);
            int nDims = r.i32("dimension count of " + name);
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException("tensor " + name + " has " + nDims + " dimensions (allowed 1.." + MAX_DIMS + ")");
            }
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = r.i64("dimension " + d + " of " + name);
                if (ne[d] <= 0 || ne[d] > Integer.MAX_VALUE) {
                    throw new GgufFormatException("tensor " + name + " dimension " + d + " = "
                            + Long.toUnsignedString(ne[d]) + " out of range");
                }
            }
            GgmlType type = GgmlType.fromId(r.i32("type of tensor " + name));
            long off = r.i64("offset of tensor " + name);
            names.add(name);
            shapes.add(ne);
            types.add(type);
            offsets.add(off);
        }
        long dataStart = alignUp(buf.position(), alignment);
        if (tensorCount > 0 && dataStart > size) {
            throw new GgufFormatException("truncated file: tensor data would start at " + dataStart
                    + " but the file has " + size + " bytes");
        }
        List<GgufTensorInfo> infos = new ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            if (seen.put(name, Boolean.TRUE) != null) {
                throw new GgufFormatException("duplicate tensor name " + name);
            }
            long elements = 1;
            for (long d : shapes.get(i)) {
                elements *= d;
                if (elements > Integer.MAX_VALUE) {
                    throw new GgufFormatException("tensor " + name + " has too many elements");
                }
            }
            if (shapes.get(i)[0] % types.get(i).blockSize() != 0) {
                throw new GgufFormatException("tensor " + name + " of type " + types.get(i) + " has rows of "
                        + shapes.get(i)[0] + " values, not a multiple of its block size " + types.get(i).blockSize());
            }
            long bytes = types.get(i).byteSize(elements);
            long off = offsets.get(i);
            if (off < 0 || off % alignment != 0) {
                throw new GgufFormatException("tensor " + name + " offset " + Long.toUnsignedString(off)
                        + " is not a multiple of the alignment " + alignment);
            }
            long abs = dataStart + off;
            if (off > size || abs + bytes > size) {
                throw new GgufFormatException("tensor " + name + " data [" + abs + ", " + (abs + bytes)
                        + ") out of range: the file has " + size + " bytes");
            }
            if (bytes > Integer.MAX_VALUE) {
                throw new GgufFormatException("tensor " + name + " has " + bytes + " bytes; tensors over 2 GiB are not supported");
            }
            infos.add(new GgufTensorInfo(name, shapes.get(i), types.get(i), abs, bytes));
        }
        checkNoOverlap(infos);
        return new GgufFile(version, metadata, infos, alignment, (int) Math.min(dataStart, buf.limit()), buf, size, mapper);
    }

    private static void checkNoOverlap(List<GgufTensorInfo> infos) {
        List<GgufTensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo p = sorted.get(i - 1);
            GgufTensorInfo t = sorted.get(i);
            if (p.offset() + p.byteSize() > t.offset()) {
                throw new GgufFormatException("tensors " + p.name() + " and " + t.name() + " overlap: ["
                        + p.offset() + ", " + (p.offset() + p.byteSize()) + ") and [" + t.offset() + ", "
                        + (t.offset() + t.byteSize()) + ")");
            }
        }
    }

    static long alignUp(long v, int alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }

    public int version() {
        return version;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public int alignment() {
        return alignment;
    }

    public int dataOffset() {
        return dataOffset;
    }

    public GgufTensorInfo tensor(String name) {
        return tensorsByName.get(name);
    }

    public GgufValue get(String key) {
        return metadata.get(key);
    }

    public GgufValue require(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException("missing metadata key " + key);
        }
        return v;
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof String s) {
            return s;
        }
        throw new GgufFormatException("metadata " + key + " is " + GgufValue.typeName(v.type()) + ", expected string");
    }

    public int getInt(String key) {
        long v = require(key).asLong();
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GgufFormatException("metadata " + key + " = " + v + " out of int range");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return metadata.containsKey(key) ? getInt(key) : defaultValue;
    }

    public float getFloat(String key, float defaultValue) {
        GgufValue v = metadata.get(key);
        return v == null ? defaultValue : (float) v.asDouble();
    }

    public GgufArray getArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof GgufArray a) {
            return a;
        }
        throw new GgufFormatException("metadata " + key + " is " + GgufValue.typeName(v.type()) + ", expected array");
    }

    /** Dequantizes a tensor's values to float (row-major in ggml order). */
    public float[] readFloats(GgufTensorInfo t) {
        int n = (int) t.elementCount();
        float[] out = new float[n];
        TensorBytes b = data(t);
        Dequant.dequantize(b.buffer(), b.offset(), t.type(), n, out, 0);
        return out;
    }

    /** The bytes of a tensor of this file, in place (no copy). */
    public TensorBytes data(GgufTensorInfo t) {
        if (mapper == null) {
            return new TensorBytes(buffer, (int) t.offset());
        }
        synchronized (mapped) {
            ByteBuffer b = mapped.get(t.name());
            if (b == null) {
                b = mapper.map(t.offset(), (int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                if (b.limit() < t.byteSize()) {
                    throw new GgufFormatException("tensor " + t.name() + ": mapped " + b.limit() + " of " + t.byteSize() + " bytes");
                }
                mapped.put(t.name(), b);
            }
            return new TensorBytes(b, 0);
        }
    }

    /** The size of the file in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** The file's bytes (little-endian, position 0 = start of file); tensor data is read in place from it. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Bounds-checked little-endian cursor. */
    private static final class Reader {
        private final ByteBuffer buf;

        Reader(ByteBuffer buf) {
            this.buf = buf;
        }

        long remaining() {
            return buf.remaining();
        }

        private void need(int n, String what) {
            if (buf.remaining() < n) {
                throw new GgufFormatException("truncated file: need " + n + " bytes for " + what + " at offset "
                        + buf.position() + " but only " + buf.remaining() + " remain");
            }
        }

        byte i8(String what) {
            need(1, what);
            return buf.get();
        }

        short i16(String what) {
            need(2, what);
            return buf.getShort();
        }

        int i32(String what) {
            need(4, what);
            return buf.getInt();
        }

        long i64(String what) {
            need(8, what);
            return buf.getLong();
        }

        String string(String what) {
            byte[] b = new byte[stringLength(what, -1)];
            buf.get(b);
            return Utf8.decode(b, 0, b.length);
        }

        /** Reads a string's length prefix and checks that its bytes follow; {@code index} >= 0 names an element. */
        private int stringLength(String what, long index) {
            if (buf.remaining() < 8) {
                need(8, "length of " + element(what, index));
            }
            long len = buf.getLong();
            if (len < 0 || len > buf.remaining()) {
                throw new GgufFormatException("truncated file: " + element(what, index) + " claims "
                        + Long.toUnsignedString(len) + " bytes at offset " + buf.position() + " but only "
                        + buf.remaining() + " remain");
            }
            return (int) len;
        }

        private static String element(String what, long index) {
            return index < 0 ? what : what + "[" + index + "]";
        }

        /**
         * Reads n strings into one UTF-8 array without a String per element: a first pass checks the lengths, a second
         * copies the bytes. Invalid UTF-8 is replaced as {@link Utf8#decode} does, so the result equals decoding each.
         */
        private Utf8Strings strings(String key, int n) {
            int start = buf.position();
            int[] starts = new int[n + 1];
            for (int i = 0; i < n; i++) {
                int len = stringLength(key, i);
                buf.position(buf.position() + len);
                starts[i + 1] = starts[i] + len;
            }
            byte[] bytes = new byte[starts[n]];
            buf.position(start);
            boolean valid = true;
            for (int i = 0; i < n; i++) {
                buf.position(buf.position() + 8);
                buf.get(bytes, starts[i], starts[i + 1] - starts[i]);
                valid = valid && Utf8.isValid(bytes, starts[i], starts[i + 1]);
            }
            Utf8Strings s = new Utf8Strings(bytes, starts);
            return valid ? s : Utf8Strings.of(s.toArray());
        }

        GgufValue value(int type, String key, int depth) {
            return switch (type) {
                case GgufValue.UINT8 -> new GgufValue(type, (short) (i8(key) & 0xFF));
                case GgufValue.INT8 -> new GgufValue(type, i8(key));
                case GgufValue.UINT16 -> new GgufValue(type, i16(key) & 0xFFFF);
                case GgufValue.INT16 -> new GgufValue(type, i16(key));
                case GgufValue.UINT32 -> new GgufValue(type, i32(key) & 0xFFFFFFFFL);
                case GgufValue.INT32 -> new GgufValue(type, i32(key));
                case GgufValue.FLOAT32 -> {
                    need(4, key);
                    yield new GgufValue(type, buf.getFloat());
                }
                case GgufValue.BOOL -> {
                    byte b = i8(key);
                    if (b != 0 && b != 1) {
                        throw new GgufFormatException("metadata " + key + ": bool byte " + b + " is not 0 or 1");
                    }
                    yield new GgufValue(type, b == 1);
                }
                case GgufValue.STRING -> new GgufValue(type, string(key));
                case GgufValue.UINT64, GgufValue.INT64 -> new GgufValue(type, i64(key));
                case GgufValue.FLOAT64 -> {
                    need(8, key);
                    yield new GgufValue(type, buf.getDouble());
                }
                case GgufValue.ARRAY -> new GgufValue(type, array(key, depth));
                default -> throw new GgufFormatException("metadata " + key + " has unknown value type " + type);
            };
        }

        private GgufArray array(String key, int depth) {
            if (depth > 4) {
                throw new GgufFormatException("metadata " + key + ": arrays nested too deeply");
            }
            int et = i32("element type of " + key);
            long count = i64("element count of " + key);
            int minSize = switch (et) {
                case GgufValue.UINT8, GgufValue.INT8, GgufValue.BOOL -> 1;
                case GgufValue.UINT16, GgufValue.INT16 -> 2;
                case GgufValue.UINT32, GgufValue.INT32, GgufValue.FLOAT32 -> 4;
                case GgufValue.UINT64, GgufValue.INT64, GgufValue.FLOAT64, GgufValue.STRING -> 8;
                case GgufValue.ARRAY -> 12;
                default -> throw new GgufFormatException("metadata " + key + " has unknown array element type " + et);
            };
            if (count < 0 || count > buf.remaining() / minSize) {
                throw new GgufFormatException("metadata " + key + ": array count " + Long.toUnsignedString(count)
                        + " too large for the " + buf.remaining() + " bytes remaining");
            }
            int n = (int) count;
            switch (et) {
                case GgufValue.UINT8, GgufValue.INT8, GgufValue.BOOL -> {
                    byte[] a = new byte[n];
                    buf.get(a);
                    if (et == GgufValue.BOOL) {
                        for (byte b : a) {
                            if (b != 0 && b != 1) {
                                throw new GgufFormatException("metadata " + key + ": bool byte " + b + " is not 0 or 1");
                            }
                        }
                    }
                    return new GgufArray(et, a);
                }
                case GgufValue.UINT16, GgufValue.INT16 -> {
                    short[] a = new short[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getShort();
                    return new GgufArray(et, a);
                }
                case GgufValue.INT32 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getInt();
                    return new GgufArray(et, a);
                }
                case GgufValue.UINT32 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getInt() & 0xFFFFFFFFL;
                    return new GgufArray(et, a);
                }
                case GgufValue.UINT64, GgufValue.INT64 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getLong();
                    return new GgufArray(et, a);
                }
                case GgufValue.FLOAT32 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getFloat();
                    return new GgufArray(et, a);
                }
                case GgufValue.FLOAT64 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) a[i] = buf.getDouble();
                    return new GgufArray(et, a);
                }
                case GgufValue.STRING -> {
                    return new GgufArray(et, strings(key, n));
                }
                default -> {
                    GgufArray[] a = new GgufArray[n];
                    for (int i = 0; i < n; i++) a[i] = array(key + "[" + i + "]", depth + 1);
                    return new GgufArray(et, a);
                }
            }
        }
    }
}
