package io.earnidle.backend.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.tokenizer.Tokenizer;

/** The nodes' own {@link Tokenizer} of each model file, read from the file in the models dir (one per file version, kept). */
public final class ModelTokenizers {
    private final Path modelsDir;
    private final Map<String, Tokenizer> bySha256 = new ConcurrentHashMap<>();

    public ModelTokenizers(Path modelsDir) {
        this.modelsDir = modelsDir;
    }

    /** The tokenizer of {@code model}'s file; it keeps a merge cache, so use it under its own lock. */
    public Tokenizer of(Models.Model model) {
        return bySha256.computeIfAbsent(model.sha256(), sha -> load(modelsDir.resolve(model.fileName())));
    }

    /** The tokens of {@code text} as a node reads a job's text prompt: with BOS when asked and the model has one. */
    public int[] encode(Models.Model model, String text, boolean addBos) {
        Tokenizer tok = of(model);
        synchronized (tok) {
            return tok.encode(text, addBos && tok.bosId() >= 0);
        }
    }

    private static Tokenizer load(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            FileChannel.MapMode ro = FileChannel.MapMode.READ_ONLY;
            long size = ch.size();
            // the tokenizer keeps the file's token array (a view on the mapping), nothing else of the file
            return Tokenizer.fromGguf(GgufFile.read(ch.map(ro, 0, Math.min(size, Integer.MAX_VALUE)), size,
                    (offset, length) -> {
                        throw new IllegalStateException("no tensor data is read for the tokenizer");
                    }));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer of " + file, e);
        }
    }
}
