package io.earnidle.backend.verification.kernels;

import java.util.logging.Level;
import java.util.logging.Logger;

import io.earnidle.node.llama.ops.JavaTensorOps;
import io.earnidle.node.llama.ops.TensorOps;

/**
 * Chooses the verifier's compute provider at run time, as Jlama's {@code TensorOperationsProvider} does: the Vector
 * API kernels ({@link VectorTensorOps}) when the JVM has the {@code jdk.incubator.vector} module (started with
 * {@code --add-modules jdk.incubator.vector}: {@code ./earnidle serve}, the backend's tests), else the plain-Java
 * reference ({@link #scalar()}). {@link VectorTensorOps} is loaded by name only in the first case, so a JVM
 * without the module never links it.
 */
public final class VerifierKernels {
    private static final Logger LOG = Logger.getLogger(VerifierKernels.class.getName());
    private static final String VECTOR_OPS = "io.earnidle.backend.verification.kernels.VectorTensorOps";

    private VerifierKernels() {
    }

    /** Whether this JVM can run the Vector API kernels. */
    public static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** A new instance of the fastest provider this JVM has (instances are thread-safe: scratch is per thread). */
    public static TensorOps best() {
        if (vectorApiPresent()) {
            try {
                return (TensorOps) Class.forName(VECTOR_OPS).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                LOG.log(Level.WARNING, "Vector API kernels unavailable, verifying with the scalar ones", e);
            }
        }
        return scalar();
    }

    /**
     * The plain-Java reference with its row scratch per thread, so that one model can serve several verifier
     * threads ({@link JavaTensorOps} keeps one scratch row per instance); bit for bit {@link JavaTensorOps}.
     */
    public static TensorOps scalar() {
        ThreadLocal<float[]> rows = ThreadLocal.withInitial(() -> new float[0]);
        return new JavaTensorOps() {
            @Override
            public void matVec(io.earnidle.node.llama.ops.WeightMatrix w, float[] x, float[] out) {
                float[] row = rows.get();
                if (row.length < w.cols()) {
                    row = new float[w.cols()];
                    rows.set(row);
                }
                matVecRows(w, x, out, 0, w.rows(), row);
            }
        };
    }
}
