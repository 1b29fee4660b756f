package io.earnidle.backend.verification;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufTensorInfo;

/**
 * The weight type that holds most of a model's matrix weights (a Q4_K_M file: q4_k), in lower case; and (for
 * dispatch, docs/trust.md) every tensor type a model file uses.
 */
public final class WeightType {
    private WeightType() {
    }

    static String of(Path gguf) throws IOException {
        return elements(gguf, true).entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name().toLowerCase(Locale.ROOT)).orElse("f32");
    }

    /** Every tensor type of the file, in lower case ("f32", "q4_k", ...). */
    public static Set<String> tensorTypes(Path gguf) throws IOException {
        Set<String> types = new TreeSet<>();
        elements(gguf, false).keySet().forEach(t -> types.add(t.name().toLowerCase(Locale.ROOT)));
        return types;
    }

    /** Elements per tensor type, of the matrices only ({@code matricesOnly}) or of every tensor. */
    private static Map<GgmlType, Long> elements(Path gguf, boolean matricesOnly) throws IOException {
        try (FileChannel ch = FileChannel.open(gguf, StandardOpenOption.READ)) {
            GgufFile f = GgufFile.read(ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(ch.size(),
                    Integer.MAX_VALUE)), ch.size(), (offset, length) -> {
                        try {
                            return ch.map(FileChannel.MapMode.READ_ONLY, offset, length);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            Map<GgmlType, Long> elements = new EnumMap<>(GgmlType.class);
            for (GgufTensorInfo t : f.tensors()) {
                if (!matricesOnly || t.ne().length >= 2) {
                    elements.merge(t.type(), t.elementCount(), Long::sum);
                }
            }
            return elements;
        }
    }
}
