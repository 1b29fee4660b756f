package io.earnidle.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one {@code kernelHarness.run} call: named GPU buffers (uploaded bytes, or outputs poisoned with NaN /
 * 0xFFFFFFFF), a list of KernelBatch ops whose buffer arguments are "@name" strings, and the read-backs. The harness
 * records all ops into one command encoder and submits once.
 */
final class GpuBatch {
    private final Map<String, Object> buffers = new LinkedHashMap<>();
    private final List<Map<String, Object>> ops = new ArrayList<>();
    private final List<Map<String, Object>> reads = new ArrayList<>();

    GpuBatch bytes(String name, byte[] data) {
        buffers.put(name, Map.of("b64", Base64.getEncoder().encodeToString(data)));
        return this;
    }

    GpuBatch floats(String name, float[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) b.putFloat(f);
        return bytes(name, b.array());
    }

    GpuBatch ints(String name, int[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : data) b.putInt(v);
        return bytes(name, b.array());
    }

    /** An output buffer of {@code floats} f32 slots filled with NaN. */
    GpuBatch poisoned(String name, int floats) {
        buffers.put(name, Map.of("bytes", 4 * floats, "fill", "nan"));
        return this;
    }

    /** An output buffer of u32 slots filled with 0xFFFFFFFF. */
    GpuBatch poisonedU32(String name, int words) {
        buffers.put(name, Map.of("bytes", 4 * words, "fill", "ones"));
        return this;
    }

    /** op name then key/value pairs; "@name" strings refer to buffers. */
    GpuBatch op(String op, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        ops.add(m);
        return this;
    }

    GpuBatch read(String name, int floats) {
        return read(name, 0, floats);
    }

    GpuBatch read(String name, int offsetFloats, int floats) {
        reads.add(Map.of("buffer", "@" + name, "offset", 4 * offsetFloats, "bytes", 4 * floats));
        return this;
    }

    Result run(KernelHarness harness, String reduction) {
        Map<String, Object> arg = new LinkedHashMap<>();
        arg.put("reduction", reduction);
        arg.put("buffers", buffers);
        arg.put("ops", ops);
        arg.put("reads", reads);
        Map<String, Object> res = harness.call("run", arg);
        assertNull(res.get("error"), () -> "batch failed: " + res.get("error"));
        assertEquals(reduction, res.get("reduction"), "runner used another reduction variant");
        List<?> r = (List<?>) res.get("reads");
        List<ByteBuffer> out = new ArrayList<>();
        for (Object o : r) out.add(ByteBuffer.wrap(Base64.getDecoder().decode((String) o)).order(ByteOrder.LITTLE_ENDIAN));
        return new Result(res, out);
    }

    record Result(Map<String, Object> raw, List<ByteBuffer> reads) {
        int dispatches() {
            return ((Number) raw.get("dispatches")).intValue();
        }

        int submits() {
            return ((Number) raw.get("submits")).intValue();
        }

        /** Read-back i as floats; any NaN/Inf (e.g. an unwritten poisoned slot) fails. */
        float[] floats(int i) {
            ByteBuffer b = reads.get(i);
            float[] f = new float[b.capacity() / 4];
            for (int k = 0; k < f.length; k++) {
                f[k] = b.getFloat(4 * k);
                int idx = k;
                assertTrue(Float.isFinite(f[idx]), () -> "read " + i + " [" + idx + "] is not finite (unwritten?): "
                        + f[idx]);
            }
            return f;
        }

        int[] ints(int i) {
            ByteBuffer b = reads.get(i);
            int[] v = new int[b.capacity() / 4];
            for (int k = 0; k < v.length; k++) v[k] = b.getInt(4 * k);
            return v;
        }
    }
}
