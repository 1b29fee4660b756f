package io.earnidle.node.engine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads the number lists of a browser engine's result JSON (logits, ids) and compares logits. */
final class BrowserResults {
    private BrowserResults() {
    }

    static float[] floats(Object list) {
        List<?> l = (List<?>) list;
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (double) (Double) l.get(i);
        }
        return f;
    }

    static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] v = new int[l.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (int) (double) (Double) l.get(i);
        }
        return v;
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length, "vocabulary size");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
