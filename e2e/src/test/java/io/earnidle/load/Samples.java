package io.earnidle.load;

import java.util.Arrays;

/** Latencies of one kind of request in nanoseconds, written by one thread and merged after the run. */
final class Samples {
    private long[] values = new long[32];
    private int size;

    void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    void addAll(Samples other) {
        for (int i = 0; i < other.size; i++) {
            add(other.values[i]);
        }
    }

    int count() {
        return size;
    }

    /** The {@code p}-th percentile (0..100, nearest rank) in milliseconds; 0 without samples. */
    double percentileMs(double p) {
        if (size == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * size);
        return sorted[Math.max(0, Math.min(size - 1, rank - 1))] / 1e6;
    }
}
