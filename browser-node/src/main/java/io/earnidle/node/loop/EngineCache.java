package io.earnidle.node.loop;

import io.earnidle.node.engine.Engine;
import io.earnidle.node.engine.EngineChoice;
import io.earnidle.node.engine.JvmEngine;
import io.earnidle.node.llama.LlamaModel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The one model in memory and the engine that holds it: loads verified bytes into the best engine the platform has
 * ({@link NodeHost#loadEngine}: WebGPU when limits.gpu allows it and an adapter was found, else WASM SIMD, else the
 * pure-Java engine), keeps it for the next job on the same model, and drops it for another model, the GPU switched
 * off under a WebGPU engine, or a lower memory limit. An accelerated engine that failed during a job is not tried
 * again this session.
 */
final class EngineCache {
    /** What loading tells the loop. */
    interface Listener {
        /** A "downloading" status with this message, now. */
        void status(String message);

        /** The engine holding the job's model, ready to run it. */
        void ready(Engine engine);

        /** The job fails. */
        void failed(String error);
    }

    private final NodeHost host;
    private final NodeLimits limits;
    private final Epoch epoch;
    private String modelId;
    private String modelSha;
    private long modelBytes;
    private Engine engine;
    /** Why better engines were not used for the cached model ("webgpu: no adapter", ...). */
    private List<String> notes = List.of();
    /** The engine of the last model loaded (reported once that engine is gone, e.g. after a stop). */
    private String lastEngineName;
    /** Accelerated engines that failed during a job this session: not tried again. */
    private final Set<EngineChoice> failed = EnumSet.noneOf(EngineChoice.class);
    private boolean gpuProbed;
    private Boolean gpuAvailable;

    EngineCache(NodeHost host, NodeLimits limits, Epoch epoch) {
        this.host = host;
        this.limits = limits;
        this.epoch = epoch;
    }

    static boolean usesGpu(Engine e) {
        return "webgpu".equals(e.name());
    }

    /** The engine holding a model, or null. */
    Engine engine() {
        return engine;
    }

    /** Whether the engine in memory holds the model of {@code j}. */
    boolean holds(JobSpec j) {
        return j.modelId().equals(modelId) && engine != null
                && (j.modelSha256() == null || j.modelSha256().equals(modelSha));
    }

    /** The engine in memory, else the last one used, else null. */
    String engineName() {
        if (engine != null) {
            return engine.name();
        }
        return lastEngineName;
    }

    List<String> notes() {
        return notes;
    }

    /** Whether a WebGPU adapter was found (null: not asked, or the GPU is off). */
    Boolean gpuAvailable() {
        return gpuAvailable;
    }

    /** Asks for a WebGPU adapter once, when the limits allow the GPU. */
    void maybeProbeGpu(boolean stopped) {
        if (limits.gpu() && !gpuProbed && !stopped) {
            gpuProbed = true;
            host.probeGpu(ok -> {
                if (limits.gpu()) {
                    gpuAvailable = ok;
                }
            });
        }
    }

    /** The visitor switched the GPU off: never use it. True when the model in memory was on the GPU (dropped). */
    boolean gpuSwitchedOff() {
        gpuAvailable = null;
        if (engine != null && usesGpu(engine)) {
            drop();
            return true;
        }
        return false;
    }

    /** Whether the model in memory is on the GPU. */
    boolean onGpu() {
        return engine != null && usesGpu(engine);
    }

    /** Drops the model when it is larger than {@code memoryBytes} (negative: no limit). */
    void dropIfOver(long memoryBytes) {
        if (memoryBytes >= 0 && engine != null && modelBytes > memoryBytes) {
            drop();
        }
    }

    /** A step failed on {@code e}: that kind of accelerated engine is not used again, and its model is dropped. */
    void engineFailed(Engine e) {
        if (usesGpu(e)) {
            failed.add(EngineChoice.WEBGPU); // e.g. the device was lost: the next job reloads on the CPU
        } else if (e.name().startsWith("wasm-simd")) {
            failed.add(EngineChoice.WASM_SIMD);
        }
        if (e == engine) {
            drop();
        }
    }

    /** The accelerated engines to try, best first (the pure-Java engine is the fallback). */
    private List<EngineChoice> candidates() {
        List<EngineChoice> c = new ArrayList<>(EngineChoice.candidates("auto",
                limits.gpu() && !Boolean.FALSE.equals(gpuAvailable)));
        c.remove(EngineChoice.JVM);
        c.removeAll(failed);
        return c;
    }

    /**
     * Hands the verified model bytes to the best engine: an accelerated engine copies them into its own memory (and
     * nothing here keeps the array), the pure-Java fallback wraps the array itself. When the loop's epoch moved on
     * meanwhile the engine is kept for the next job, unless {@code newerWork} (or a model in memory) says otherwise.
     */
    void load(JobSpec j, byte[] data, String how, BooleanSupplier newerWork, Listener listener) {
        int ep = epoch.current();
        listener.status("model " + j.modelId() + " " + how + ": loading it into the engine");
        host.loadEngine(data, candidates(), (accelerated, loadNotes) -> {
            Engine e = accelerated;
            if (e != null && usesGpu(e) && !limits.gpu()) {
                e.close(); // the GPU was switched off while the engine loaded
                if (epoch.is(ep)) {
                    load(j, data, how, newerWork, listener);
                }
                return;
            }
            if (e == null) {
                try {
                    e = new JvmEngine(LlamaModel.load(ByteBuffer.wrap(data)), host.engine());
                } catch (RuntimeException ex) {
                    if (epoch.is(ep)) {
                        listener.failed("model " + j.modelId() + " " + how + " does not load: " + NodeLoop.message(ex));
                    }
                    return;
                }
            }
            if (!epoch.is(ep) && (newerWork.getAsBoolean() || engine != null)) {
                e.close(); // cancelled while loading, and something newer is under way (or the node stopped)
                return;
            }
            modelId = j.modelId();
            modelSha = j.modelSha256();
            modelBytes = data.length;
            engine = e;
            lastEngineName = e.name();
            notes = loadNotes == null ? List.of() : List.copyOf(loadNotes);
            if (epoch.is(ep)) {
                listener.ready(e); // else: cancelled while loading; the engine is kept for the next job
            }
        });
    }

    /** Closes the engine (frees kernel memory, GPU buffers) and forgets the model. */
    void drop() {
        if (engine != null) {
            engine.close();
        }
        engine = null;
        modelId = null;
        modelSha = null;
        modelBytes = 0;
        notes = List.of();
    }
}
