package io.earnidle.node.gguf;

import io.earnidle.node.NodeScripts;
import io.earnidle.node.loop.Json;
import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JavaScript GGUF readers that have no Java to lean on read synthesized files exactly as {@link GgufFile} does:
 * cpu-glue.js's header walk (the browser node finds the tensor data and, for WebGPU, the tensor table with it) and
 * e2e/bench/lib/gguf.mjs (the bench reads a model's vocabulary under Node). Run under Node by
 * {@code src/test/node/gguf-parsers.mjs}.
 */
class GgufJsParsersTest {
    /** A file with every metadata value type, nested arrays, a non-default alignment and tensors of every type. */
    private static byte[] everyValueType() {
        GgufWriter w = new GgufWriter();
        w.put("general.alignment", GgufValue.uint32(64));
        w.putString("general.architecture", "test \u00e9\u4e2d\ud83d\ude00");
        w.put("t.u8", new GgufValue(GgufValue.UINT8, (short) 200));
        w.put("t.i8", new GgufValue(GgufValue.INT8, (byte) -100));
        w.put("t.u16", new GgufValue(GgufValue.UINT16, 60000));
        w.put("t.i16", new GgufValue(GgufValue.INT16, (short) -30000));
        w.put("t.u32", GgufValue.uint32(4_000_000_000L));
        w.put("t.i32", GgufValue.int32(-2_000_000_000));
        w.put("t.f32", GgufValue.float32(0.1f));
        w.put("t.bool", GgufValue.bool(true));
        w.put("t.u64", new GgufValue(GgufValue.UINT64, 1L << 40));
        w.put("t.i64", new GgufValue(GgufValue.INT64, -(1L << 41)));
        w.put("t.f64", new GgufValue(GgufValue.FLOAT64, -1.0 / 3));
        w.put("a.u8", GgufValue.array(new GgufArray(GgufValue.UINT8, new byte[] {0, 1, (byte) 255})));
        w.put("a.i8", GgufValue.array(new GgufArray(GgufValue.INT8, new byte[] {-128, 0, 127})));
        w.put("a.bool", GgufValue.array(new GgufArray(GgufValue.BOOL, new byte[] {1, 0, 1})));
        w.put("a.u16", GgufValue.array(new GgufArray(GgufValue.UINT16, new short[] {(short) 65535, 7})));
        w.put("a.i16", GgufValue.array(new GgufArray(GgufValue.INT16, new short[] {-32768, 32767})));
        w.putInt32s("a.i32", new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE});
        w.put("a.u32", GgufValue.array(new GgufArray(GgufValue.UINT32, new long[] {0xFFFFFFFFL, 3})));
        w.put("a.u64", GgufValue.array(new GgufArray(GgufValue.UINT64, new long[] {1L << 50, 9})));
        w.put("a.i64", GgufValue.array(new GgufArray(GgufValue.INT64, new long[] {-(1L << 50), -9})));
        w.put("a.f32", GgufValue.array(new GgufArray(GgufValue.FLOAT32, new float[] {1.5f, -0.2f, 3e-8f})));
        w.put("a.f64", GgufValue.array(new GgufArray(GgufValue.FLOAT64, new double[] {Math.PI, -1e300})));
        w.putStrings("a.str", new String[] {"", "a", "\u00fc\u00df", "<|eot_id|>"});
        w.put("a.nested", GgufValue.array(new GgufArray(GgufValue.ARRAY, new GgufArray[] {
                new GgufArray(GgufValue.INT32, new int[] {1, 2}),
                new GgufArray(GgufValue.STRING, new String[] {"x", "yz"})})));
        w.put("a.empty", GgufValue.array(new GgufArray(GgufValue.FLOAT32, new float[0])));
        for (GgmlType t : GgmlType.values()) {
            int n = t.blockSize() * 2;
            w.addTensor("t." + t.name().toLowerCase(), new long[] {n, 3}, t, new byte[(int) t.byteSize(3L * n)]);
        }
        w.addTensor("t.3d", new long[] {32, 2, 3}, GgmlType.Q8_0, new byte[(int) GgmlType.Q8_0.byteSize(192)]);
        w.addTensor("t.1d", new long[] {5}, GgmlType.F32, new byte[20]);
        return w.toBytes();
    }

    @Test
    void jsReadersAgreeWithGgufFile(@TempDir Path dir) throws Exception {
        List<Path> files = new ArrayList<>();
        files.add(Files.write(dir.resolve("values.gguf"), everyValueType()));
        files.add(Files.write(dir.resolve("tiny.gguf"), ModelSynthesizer.tinyBytes(5)));
        for (SynthFileType t : new SynthFileType[] {SynthFileType.Q4_0, SynthFileType.Q4_K_M, SynthFileType.BF16}) {
            Path p = dir.resolve("tiny-k-" + t.name().toLowerCase() + ".gguf");
            ModelSynthesizer.write(p, SynthShape.TINY_K, t, 3, null);
            files.add(p);
        }
        List<String> args = new ArrayList<>();
        args.add("gguf-parsers.mjs");
        files.forEach(f -> args.add(f.toString()));
        List<?> parsed = (List<?>) Json.parse(NodeScripts.run(args, ""));
        assertEquals(files.size(), parsed.size());
        for (int i = 0; i < files.size(); i++) {
            GgufFile f = GgufFile.read(Files.readAllBytes(files.get(i)));
            Map<String, Object> entry = Json.obj(parsed.get(i), "entry");
            String name = files.get(i).getFileName().toString();
            assertGlue(name, f, Json.obj(entry.get("glue"), "glue"));
            assertBench(name, f, Json.obj(entry.get("bench"), "bench"));
        }
    }

    /** cpu-glue.js parseGgufHeader: data offset, alignment and the tensor table (absolute offsets, byte sizes). */
    private static void assertGlue(String file, GgufFile f, Map<String, Object> glue) {
        assertEquals(f.dataOffset(), Json.num(glue, "dataOffset"), file + " data offset");
        assertEquals(f.alignment(), Json.num(glue, "alignment"), file + " alignment");
        Map<String, Object> tensors = Json.obj(glue.get("tensors"), "tensors");
        assertEquals(f.tensors().size(), tensors.size(), file + " tensor count");
        for (GgufTensorInfo t : f.tensors()) {
            Map<String, Object> j = Json.obj(tensors.get(t.name()), file + " tensor " + t.name());
            List<Double> ne = new ArrayList<>();
            for (long d : t.ne()) {
                ne.add((double) d);
            }
            String what = file + " " + t.name();
            assertEquals(ne, j.get("ne"), what + " ne");
            assertEquals(t.type().id(), Json.num(j, "type"), what + " type");
            assertEquals(t.offset(), Json.num(j, "offset"), what + " offset");
            assertEquals(t.byteSize(), Json.num(j, "bytes"), what + " bytes");
        }
    }

    /** e2e/bench/lib/gguf.mjs readGgufMetadata: version, tensor count and every metadata value. */
    private static void assertBench(String file, GgufFile f, Map<String, Object> bench) {
        assertEquals(f.version(), Json.num(bench, "version"), file + " version");
        assertEquals(f.tensors().size(), Json.num(bench, "tensorCount"), file + " tensor count");
        Map<String, Object> meta = Json.obj(bench.get("meta"), "meta");
        assertEquals(new ArrayList<>(f.metadata().keySet()), new ArrayList<>(meta.keySet()), file + " metadata keys");
        Map<String, Object> expected = new LinkedHashMap<>();
        f.metadata().forEach((k, v) -> expected.put(k, json(v.type(), v.value())));
        expected.forEach((k, v) -> assertEquals(v, meta.get(k), file + " " + k));
    }

    /** A metadata value as JSON.parse gives the JavaScript reader's value: numbers as Double, arrays as lists. */
    private static Object json(int type, Object v) {
        if (type == GgufValue.ARRAY) {
            GgufArray a = (GgufArray) v;
            List<Object> out = new ArrayList<>();
            int et = a.elementType();
            switch (a.data()) {
                case byte[] x -> {
                    for (byte b : x) {
                        out.add(et == GgufValue.BOOL ? (Object) (b != 0) : (double) (et == GgufValue.UINT8 ? b & 0xFF : b));
                    }
                }
                case short[] x -> {
                    for (short s : x) {
                        out.add((double) (et == GgufValue.UINT16 ? s & 0xFFFF : s));
                    }
                }
                case int[] x -> {
                    for (int s : x) {
                        out.add((double) s);
                    }
                }
                case long[] x -> {
                    for (long s : x) {
                        out.add((double) s);
                    }
                }
                case float[] x -> {
                    for (float s : x) {
                        out.add((double) s);
                    }
                }
                case double[] x -> {
                    for (double s : x) {
                        out.add(s);
                    }
                }
                case GgufArray[] x -> {
                    for (GgufArray s : x) {
                        out.add(json(GgufValue.ARRAY, s));
                    }
                }
                default -> out.addAll(List.of(a.strings()));
            }
            return out;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        return v;
    }
}
