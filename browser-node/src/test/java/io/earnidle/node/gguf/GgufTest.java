package io.earnidle.node.gguf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class GgufTest {

    private static GgufWriter sample() {
        return new GgufWriter()
                .putString("general.architecture", "llama")
                .put("u8", new GgufValue(GgufValue.UINT8, (short) 200))
                .put("i8", new GgufValue(GgufValue.INT8, (byte) -5))
                .put("u16", new GgufValue(GgufValue.UINT16, 60000))
                .put("i16", new GgufValue(GgufValue.INT16, (short) -300))
                .putUInt32("u32", 4_000_000_000L)
                .put("i32", GgufValue.int32(-7))
                .putFloat32("f32", 1.5f)
                .put("bool", GgufValue.bool(true))
                .put("u64", new GgufValue(GgufValue.UINT64, 1L << 40))
                .put("i64", new GgufValue(GgufValue.INT64, -(1L << 40)))
                .put("f64", new GgufValue(GgufValue.FLOAT64, Math.PI))
                .putStrings("strs", new String[] {"a", "Ġthe", "日本", ""})
                .putInt32s("ints", new int[] {1, -2, 3})
                .put("floats", GgufValue.array(new GgufArray(GgufValue.FLOAT32, new float[] {0.25f, -1f})))
                .put("nested", GgufValue.array(new GgufArray(GgufValue.ARRAY, new GgufArray[] {
                        new GgufArray(GgufValue.UINT8, new byte[] {1, 2}),
                        new GgufArray(GgufValue.STRING, new String[] {"x"})})))
                .addF32("t.f32", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6})
                .addF16("t.f16", new long[] {4}, new float[] {0.5f, -2f, 65504f, 1e-7f});
    }

    @Test
    void stringArraysAreReadAsOneUtf8ArrayAndInvalidBytesAreReplacedAsDecodeDoes() {
        byte[] bytes = new GgufWriter().putStrings("strs", new String[] {"a", "Ġthe", "日本", "", "#(#", "😀"}).toBytes();
        int bad = indexOf(bytes, "#(#".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        bytes[bad] = (byte) 0xC3; // "\xC3(#": a lead byte without its continuation byte
        GgufArray a = GgufFile.read(bytes).getArray("strs");
        Utf8Strings s = assertInstanceOf(Utf8Strings.class, a.data(), "no String per element");
        String[] expected = {"a", "Ġthe", "日本", "", "\uFFFD(#", "😀"};
        assertArrayEquals(expected, a.strings());
        assertArrayEquals(expected, s.toArray());
        int utf8 = 0;
        for (int i = 0; i < expected.length; i++) {
            byte[] e = Utf8.encode(expected[i]);
            assertTrue(s.equalsBytes(i, e, 0, e.length), expected[i]);
            assertEquals(Utf8Strings.hash(e, 0, e.length), s.hash(i));
            utf8 += e.length;
        }
        assertEquals(utf8 + 4L * (expected.length + 1), s.payloadBytes());
        assertArrayEquals(expected, Utf8Strings.of(expected).toArray());
        assertArrayEquals(new GgufWriter().putStrings("strs", expected).toBytes(),
                new GgufWriter().put("strs", GgufValue.array(a)).toBytes(), "writes back as read");
    }

    @Test
    void utf8ValidityAgreesWithDecode() {
        byte[][] cases = {{}, {0x41}, {(byte) 0xC3, (byte) 0xA9}, {(byte) 0xC3}, {(byte) 0xC0, (byte) 0x80},
                {(byte) 0xE0, (byte) 0x80, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0x80}, {(byte) 0xFF}, {0x61, (byte) 0xE6, (byte) 0x97}};
        for (byte[] c : cases) {
            String d = Utf8.decode(c, 0, c.length);
            assertEquals(Arrays.equals(c, Utf8.encode(d)), Utf8.isValid(c, 0, c.length), Arrays.toString(c));
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void roundTripsMetadataAndTensors() {
        byte[] q8 = new byte[34];
        q8[0] = 0x00; q8[1] = 0x38; // f16 0.5
        for (int i = 0; i < 32; i++) {
            q8[2 + i] = (byte) (i - 16);
        }
        byte[] bytes = sample().addTensor("t.q8", new long[] {32}, GgmlType.Q8_0, q8).toBytes();
        GgufFile f = GgufFile.read(bytes);
        assertEquals(3, f.version());
        assertEquals(32, f.alignment());
        assertEquals(0, f.dataOffset() % 32);
        assertEquals("llama", f.getString("general.architecture"));
        assertEquals(200, f.get("u8").asLong());
        assertEquals(-5, f.get("i8").asLong());
        assertEquals(60000, f.get("u16").asLong());
        assertEquals(-300, f.get("i16").asLong());
        assertEquals(4_000_000_000L, f.get("u32").asLong());
        assertEquals(-7, f.getInt("i32"));
        assertEquals(1.5f, f.getFloat("f32", 0));
        assertEquals(Boolean.TRUE, f.get("bool").value());
        assertEquals(1L << 40, f.get("u64").asLong());
        assertEquals(-(1L << 40), f.get("i64").asLong());
        assertEquals(Math.PI, f.get("f64").asDouble());
        assertArrayEquals(new String[] {"a", "Ġthe", "日本", ""}, f.getArray("strs").strings());
        assertArrayEquals(new int[] {1, -2, 3}, f.getArray("ints").ints());
        assertArrayEquals(new float[] {0.25f, -1f}, (float[]) f.getArray("floats").data());
        GgufArray[] nested = (GgufArray[]) f.getArray("nested").data();
        assertArrayEquals(new int[] {1, 2}, nested[0].ints());
        assertArrayEquals(new String[] {"x"}, nested[1].strings());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, f.readFloats(f.tensor("t.f32")));
        assertArrayEquals(new long[] {3, 2}, f.tensor("t.f32").ne());
        float[] h = f.readFloats(f.tensor("t.f16"));
        assertEquals(0.5f, h[0]);
        assertEquals(-2f, h[1]);
        assertEquals(65504f, h[2]);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(1e-7f)), h[3]); // subnormal half
        float[] q = f.readFloats(f.tensor("t.q8"));
        for (int i = 0; i < 32; i++) {
            assertEquals(0.5f * (i - 16), q[i]);
        }
        for (GgufTensorInfo t : f.tensors()) {
            assertEquals(0, (t.offset() - f.dataOffset()) % 32, t.name());
        }
        // the writer is deterministic
        assertArrayEquals(bytes, sample().addTensor("t.q8", new long[] {32}, GgmlType.Q8_0, q8).toBytes());
    }

    @Test
    void honoursCustomAlignment() {
        byte[] bytes = new GgufWriter().putUInt32("general.alignment", 64)
                .addF32("a", new long[] {3}, new float[] {1, 2, 3})
                .addF32("b", new long[] {2}, new float[] {4, 5}).toBytes();
        GgufFile f = GgufFile.read(bytes);
        assertEquals(64, f.alignment());
        assertEquals(0, f.dataOffset() % 64);
        assertEquals(64, f.tensor("b").offset() - f.tensor("a").offset());
        assertArrayEquals(new float[] {4, 5}, f.readFloats(f.tensor("b")));
    }

    @Test
    void everyTruncationIsRejectedCleanly() {
        byte[] bytes = sample().toBytes();
        for (int len = 0; len < bytes.length; len++) {
            byte[] cut = Arrays.copyOf(bytes, len);
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.read(cut), "length " + len);
            assertFalse(e.getMessage().isEmpty());
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String reject(byte[] bytes) {
        return assertThrows(GgufFormatException.class, () -> GgufFile.read(bytes)).getMessage();
    }

    @Test
    void rejectsBadMagicAndVersion() {
        byte[] bytes = sample().toBytes();
        bytes[0] = 'X';
        assertTrue(reject(bytes).contains("bad magic"));
        byte[] v = sample().toBytes();
        le(v).putInt(4, 7);
        assertTrue(reject(v).contains("version 7"));
        assertTrue(reject(new byte[] {1, 2}).contains("truncated"));
    }

    @Test
    void rejectsAbsurdCounts() {
        byte[] t = sample().toBytes();
        le(t).putLong(8, Long.MAX_VALUE);
        assertTrue(reject(t).contains("tensor count"), reject(t));
        byte[] k = sample().toBytes();
        le(k).putLong(16, 1L << 40);
        assertTrue(reject(k).contains("metadata count"));
        byte[] neg = sample().toBytes();
        le(neg).putLong(16, -1L);
        assertTrue(reject(neg).contains("metadata count"));
        // a string length far beyond the file
        byte[] s = sample().toBytes();
        le(s).putLong(24, 1L << 50);
        assertTrue(reject(s).contains("truncated"), reject(s));
        // an array count beyond the file
        byte[] a = new GgufWriter().putInt32s("ints", new int[] {1, 2}).toBytes();
        int countPos = 24 + 8 + "ints".length() + 4 + 4;
        assertEquals(2, le(a).getLong(countPos));
        le(a).putLong(countPos, 1L << 33);
        assertTrue(reject(a).contains("array count"), reject(a));
    }

    @Test
    void rejectsUnknownTypes() {
        byte[] bytes = new GgufWriter().put("x", GgufValue.int32(1)).toBytes();
        le(bytes).putInt(24 + 8 + 1, 99);
        assertTrue(reject(bytes).contains("unknown value type 99"));
        byte[] arr = new GgufWriter().putInt32s("x", new int[] {1}).toBytes();
        le(arr).putInt(24 + 8 + 1 + 4, 42);
        assertTrue(reject(arr).contains("unknown array element type 42"));
        byte[] tt = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        // header 24, name 8+1, ndims 4, ne 8, then type
        le(tt).putInt(24 + 9 + 4 + 8, 13);
        assertTrue(reject(tt).contains("unsupported tensor type id 13"));
    }

    @Test
    void rejectsTensorOffsetsAndShapesOutOfRange() {
        byte[] off = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        int offsetPos = 24 + 9 + 4 + 8 + 4;
        le(off).putLong(offsetPos, 1024);
        assertTrue(reject(off).contains("out of range"), reject(off));
        byte[] mis = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        le(mis).putLong(offsetPos, 4);
        assertTrue(reject(mis).contains("alignment"));
        byte[] huge = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        le(huge).putLong(24 + 9 + 4, 1L << 40);
        assertTrue(reject(huge).contains("dimension 0"), reject(huge));
        byte[] big = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        le(big).putLong(24 + 9 + 4, 1000);
        assertTrue(reject(big).contains("out of range"), reject(big));
        byte[] dims = new GgufWriter().addF32("w", new long[] {2}, new float[] {1, 2}).toBytes();
        le(dims).putInt(24 + 9, 9);
        assertTrue(reject(dims).contains("dimensions"));
        byte[] align = new GgufWriter().putUInt32("general.alignment", 3).toBytes();
        assertTrue(reject(align).contains("power of two"));
    }

    @Test
    void halfConversionIsExactForRepresentableValues() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.toFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Half.fromFloat(f), "bits " + bits);
                assertEquals(Float.float16ToFloat((short) bits), f);
            }
        }
    }

    @Test
    void utf8DecodeMatchesJdkOnValidTextAndReplacesInvalidBytes() {
        String s = "aé日😀";
        byte[] b = Utf8.encode(s);
        assertArrayEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), b);
        assertEquals(s, Utf8.decode(b, 0, b.length));
        assertEquals("aé\uFFFD", Utf8.decode(b, 0, 4)); // a, é, then the first byte of 日
        assertEquals("\uFFFDx", Utf8.decode(new byte[] {(byte) 0xFF, 'x'}, 0, 2));
    }
}
