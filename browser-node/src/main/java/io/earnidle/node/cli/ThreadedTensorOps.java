package io.earnidle.node.cli;

import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.WeightMatrix;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * JVM-only {@link JavaTensorOps} that splits a mat-vec's rows over a fixed thread pool. Each output element is
 * computed exactly as the single-threaded version does, so results are bit-identical for any thread count.
 * Lives outside the packages TeaVM compiles (java.util.concurrent is not for the browser build).
 */
public final class ThreadedTensorOps extends JavaTensorOps implements AutoCloseable {
    private static final long MIN_PARALLEL_WORK = 1 << 16;
    private final int threads;
    private final ExecutorService pool;

    public ThreadedTensorOps(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "matvec");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "java-threads-" + threads;
    }

    @Override
    public void matVec(WeightMatrix w, float[] x, float[] out) {
        int rows = w.rows();
        if (threads == 1 || (long) rows * w.cols() < MIN_PARALLEL_WORK) {
            super.matVec(w, x, out);
            return;
        }
        int per = (rows + threads - 1) / threads;
        List<Future<?>> fs = new ArrayList<>();
        for (int from = 0; from < rows; from += per) {
            int f = from;
            int to = Math.min(rows, from + per);
            fs.add(pool.submit(() -> matVecRows(w, x, out, f, to, new float[w.cols()])));
        }
        try {
            for (Future<?> fu : fs) {
                fu.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
