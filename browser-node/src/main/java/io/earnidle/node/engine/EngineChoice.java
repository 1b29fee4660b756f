package io.earnidle.node.engine;

import java.util.ArrayList;
import java.util.List;

/** The engine kinds, in the node's order of preference, and the selection rule. */
public enum EngineChoice {
    WEBGPU, WASM_SIMD, JVM;

    /**
     * Candidates to try in order: {@code requested} "auto" (or null) gives WebGPU (only when {@code gpuAllowed}, i.e.
     * the visitor's limits.gpu), then WASM SIMD, then the pure-Java engine; "webgpu", "wasm" or "jvm" force one.
     */
    public static List<EngineChoice> candidates(String requested, boolean gpuAllowed) {
        List<EngineChoice> l = new ArrayList<>();
        String r = requested == null ? "auto" : requested;
        switch (r) {
            case "auto" -> {
                if (gpuAllowed) {
                    l.add(WEBGPU);
                }
                l.add(WASM_SIMD);
                l.add(JVM);
            }
            case "webgpu" -> l.add(WEBGPU);
            case "wasm", "wasm-simd" -> l.add(WASM_SIMD);
            case "jvm" -> l.add(JVM);
            default -> throw new IllegalArgumentException("unknown engine '" + r + "' (auto, webgpu, wasm, jvm)");
        }
        return l;
    }
}
