package io.earnidle.node.gguf;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link GgmlType} is the one source of the weight formats' ggml type ids and block sizes; every other place that
 * knows them (the WGSL kernels, their runner, the WASM-SIMD glue and kernels, the WebGPU engine) is read here and
 * checked against it.
 */
class GgmlFormatsTest {
    private static final Path MODULE = Path.of(System.getProperty("basedir", "")).toAbsolutePath();

    private static String resource(String path) throws IOException {
        try (InputStream in = GgmlFormatsTest.class.getClassLoader().getResourceAsStream(path)) {
            assertNotNull(in, "classpath resource " + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The text of {@code open} up to the first line that is just {@code close}. */
    private static String block(String text, String open, String close) {
        int a = text.indexOf(open);
        assertTrue(a >= 0, "no " + open);
        int b = text.indexOf(close, a);
        assertTrue(b >= 0, "no end of " + open);
        return text.substring(a, b);
    }

    /** id -> [block size, bytes per block] of an object literal {@code {ID: [ELEMS, BYTES], ...}}. */
    private static Map<Integer, int[]> blockTable(String literal) {
        Map<Integer, int[]> m = new LinkedHashMap<>();
        Matcher e = Pattern.compile("(\\d+):\\s*\\[(\\d+),\\s*(\\d+)\\]").matcher(literal);
        while (e.find()) {
            m.put(Integer.parseInt(e.group(1)), new int[] {Integer.parseInt(e.group(2)), Integer.parseInt(e.group(3))});
        }
        assertFalse(m.isEmpty(), "no entries in " + literal);
        return m;
    }

    private static void assertBlocks(String where, Map<Integer, int[]> table) {
        for (Map.Entry<Integer, int[]> e : table.entrySet()) {
            GgmlType t = GgmlType.fromId(e.getKey());
            assertArrayEquals(new int[] {t.blockSize(), t.bytesPerBlock()}, e.getValue(), where + ": " + t);
        }
    }

    private static TreeSet<Integer> ids(GgmlType... types) {
        return Arrays.stream(types).map(GgmlType::id).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The FMT_* constants of quant_common.wgsl: the formats the WGSL kernels decode. */
    private static Map<String, Integer> wgslFormats(String quantCommon) {
        Map<String, Integer> m = new LinkedHashMap<>();
        Matcher c = Pattern.compile("const FMT_(\\w+): u32 = (\\d+)u;").matcher(quantCommon);
        while (c.find()) {
            m.put(c.group(1), Integer.parseInt(c.group(2)));
        }
        return m;
    }

    /** FMT name -> returned value of a WGSL {@code fn NAME(fmt: u32) -> u32} made of {@code case ...: { return Nu; }}. */
    private static Map<String, Integer> wgslTable(String source, String fn) {
        String body = block(source, "fn " + fn + "(fmt: u32) -> u32 {", "\n}\n");
        Map<String, Integer> m = new LinkedHashMap<>();
        Matcher c = Pattern.compile("case ([^:]+): \\{ return (\\d+)u; \\}").matcher(body);
        while (c.find()) {
            for (String sel : c.group(1).split(",")) {
                String s = sel.trim();
                if (!s.equals("default")) {
                    assertTrue(s.startsWith("FMT_"), fn + ": case " + s);
                    m.put(s.substring(4), Integer.parseInt(c.group(2)));
                }
            }
        }
        return m;
    }

    @Test
    void wgslFormatConstantsAndTablesMatchGgmlType() throws IOException {
        String qc = resource("web/kernels/quant_common.wgsl");
        Map<String, Integer> fmts = wgslFormats(qc);
        assertEquals(ids(GgmlType.F32, GgmlType.F16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0, GgmlType.Q4_K,
                GgmlType.Q6_K), new TreeSet<>(fmts.values()), "the formats the WGSL kernels decode");
        fmts.forEach((name, id) -> assertEquals(GgmlType.valueOf(name).id(), id, "FMT_" + name));
        Map<String, Integer> elems = wgslTable(qc, "block_elems");
        Map<String, Integer> bytes = wgslTable(qc, "block_bytes");
        assertEquals(fmts.keySet(), elems.keySet(), "block_elems names every format");
        assertEquals(fmts.keySet(), bytes.keySet(), "block_bytes names every format");
        for (String name : fmts.keySet()) {
            assertEquals(GgmlType.valueOf(name).blockSize(), elems.get(name), "block_elems(FMT_" + name + ")");
            assertEquals(GgmlType.valueOf(name).bytesPerBlock(), bytes.get(name), "block_bytes(FMT_" + name + ")");
        }
    }

    @Test
    void wgslFormatSwitchesUseTheConstants() throws IOException {
        Pattern bare = Pattern.compile("case[^:{]*\\b\\d+u\\b");
        for (String k : new String[] {"quant_common", "matvec", "matmul", "embed"}) {
            String src = resource("web/kernels/" + k + ".wgsl");
            Matcher m = bare.matcher(src);
            assertFalse(m.find(), () -> k + ".wgsl switches on a bare format number: " + m.group());
        }
    }

    @Test
    void kernelRunnerFormatsMatchGgmlType() throws IOException {
        String runnerFormats = resource("web/kernels/formats.js");
        String formats = block(runnerFormats, "export const FORMATS = Object.freeze({", "});");
        Map<String, Integer> named = new LinkedHashMap<>();
        Matcher f = Pattern.compile("(\\w+):\\s*(\\d+)").matcher(formats.substring(formats.indexOf('{')));
        while (f.find()) {
            named.put(f.group(1), Integer.parseInt(f.group(2)));
        }
        named.forEach((name, id) -> assertEquals(GgmlType.valueOf(name.toUpperCase()).id(), id, "formats.js FORMATS." + name));
        Map<Integer, int[]> blocks = blockTable(block(runnerFormats, "const BLOCKS = {", "};"));
        assertBlocks("formats.js BLOCKS", blocks);
        TreeSet<Integer> wgsl = new TreeSet<>(wgslFormats(resource("web/kernels/quant_common.wgsl")).values());
        assertEquals(wgsl, new TreeSet<>(named.values()), "formats.js FORMATS = the WGSL formats");
        assertEquals(wgsl, new TreeSet<>(blocks.keySet()), "formats.js BLOCKS = the WGSL formats");
    }

    @Test
    void cpuGlueFormatsMatchGgmlType() throws IOException {
        String glue = Files.readString(MODULE.resolve("src/main/resources/web/node/engine/cpu-glue.js"));
        Map<Integer, int[]> blocks = blockTable(block(glue, "const BLOCK = {", "};"));
        assertBlocks("cpu-glue.js BLOCK", blocks);
        assertEquals(ids(GgmlType.values()), new TreeSet<>(blocks.keySet()), "cpu-glue.js sizes every GgmlType");
        String dequant = block(glue, "function dequant(u8, dv, type, p, n, f, o) {", "\n  }\n");
        TreeSet<Integer> cases = new TreeSet<>();
        Matcher c = Pattern.compile("case (\\d+):").matcher(dequant);
        while (c.find()) {
            cases.add(Integer.parseInt(c.group(1)));
        }
        assertEquals(ids(GgmlType.values()), cases, "cpu-glue.js dequantizes every GgmlType");
    }

    @Test
    void simdKernelBlockBytesMatchGgmlType() throws IOException {
        String wat = Files.readString(MODULE.resolve("../webgpu-kernels/src/main/wat/simd-kernels.wat"));
        Map<String, Integer> consts = new LinkedHashMap<>();
        Matcher c = Pattern.compile("(?m)^;;#const (\\w+)_BYTES (\\d+)\\s*$").matcher(wat);
        while (c.find()) {
            consts.put(c.group(1), Integer.parseInt(c.group(2)));
        }
        assertEquals(Map.of("Q4_0", 18, "Q8_0", 34, "Q4_K", 144, "Q6_K", 210).keySet(), consts.keySet(),
                "the formats the SIMD kernels decode");
        consts.forEach((name, bytes) -> {
            assertEquals(GgmlType.valueOf(name).bytesPerBlock(), bytes, name + "_BYTES");
            assertTrue(wat.contains("$$" + name + "_BYTES$$"), name + "_BYTES is used");
        });
    }
}
