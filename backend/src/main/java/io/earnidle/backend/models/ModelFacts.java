package io.earnidle.backend.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

import io.earnidle.node.gguf.GgmlType;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.gguf.GgufValue;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaWeights;
import io.earnidle.node.tokenizer.ChatTemplate;
import io.earnidle.node.tokenizer.Tokenizer;

/**
 * What the catalog records about a GGUF file, read from its header with the nodes' own reader ({@link GgufFile}),
 * tokenizer and weight loader ({@link LlamaWeights}, over a placement that reads no weights): a file the nodes
 * could not load is refused here with the loader's message.
 *
 * @param architecture   {@code general.architecture} (always {@code llama}: nothing else is accepted)
 * @param contextLength  {@code llama.context_length}
 * @param quantization   the GGML type holding most matrix weights, lower case ({@code q4_0}; a Q4_K_M file:
 *                       {@code q4_k})
 * @param parameterCount elements of all tensors
 * @param vocabSize      tokens of the vocabulary
 * @param chatTemplate   {@code tokenizer.chat_template}, or null when the file has none
 * @param chatFormat     how chat messages are rendered ({@link #LLAMA32}, {@link #LLAMA3}), or null: no chat
 * @param memoryBytes    what a node needs to hold the model: the file plus the f32 KV cache at full context
 *                       ({@code 2 × layers × context × kv_dim × 4} bytes, as the engines allocate it)
 * @param displayName    {@code general.name}, or null
 */
public record ModelFacts(String architecture, int contextLength, String quantization, long parameterCount,
                         int vocabSize, String chatTemplate, String chatFormat, long memoryBytes,
                         long sizeBytes, String displayName) {
    /** The Hugging Face Llama 3.1 / 3.2 Instruct template ({@link ChatTemplate#llama32}). */
    public static final String LLAMA32 = "llama3.2";
    /** The plain Llama 3 Instruct layout ({@link ChatTemplate#llama3}). */
    public static final String LLAMA3 = "llama3";

    /** Reads and checks {@code file}; a malformed or non-Llama file is an {@link IllegalArgumentException}. */
    public static ModelFacts read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + " is not a file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new IllegalArgumentException(file + " is empty, not a GGUF file");
            }
            FileChannel.MapMode ro = FileChannel.MapMode.READ_ONLY;
            GgufFile f = GgufFile.read(ch.map(ro, 0, Math.min(size, Integer.MAX_VALUE)), size, (offset, length) -> {
                try {
                    return ch.map(ro, offset, length);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return of(f, size);
        } catch (GgufFormatException | IllegalStateException | IndexOutOfBoundsException
                 | java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException(file + " is not a usable GGUF model: " + e.getMessage(), e);
        }
    }

    static ModelFacts of(GgufFile f, long size) {
        GgufValue arch = f.get("general.architecture");
        if (arch == null) {
            throw new IllegalArgumentException("the file has no general.architecture; only Llama models are served");
        }
        String architecture = f.getString("general.architecture");
        if (!architecture.equals("llama")) {
            throw new IllegalArgumentException("architecture " + architecture
                    + " is not supported: only Llama models (general.architecture = llama) are served");
        }
        // the nodes' loader checks the config, the tokenizer and every tensor's presence and shape
        LlamaWeights<GgufTensorInfo, GgufTensorInfo> w = LlamaWeights.load(f, new HeaderOnly(f));
        LlamaConfig c = w.config();
        Tokenizer tok = w.tokenizer();
        long params = 0;
        Map<GgmlType, Long> matrixElements = new EnumMap<>(GgmlType.class);
        for (GgufTensorInfo t : f.tensors()) {
            params += t.elementCount();
            if (t.ne().length >= 2) {
                matrixElements.merge(t.type(), t.elementCount(), Long::sum);
            }
        }
        String quantization = matrixElements.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name().toLowerCase(Locale.ROOT)).orElse("f32");
        String template = f.get("tokenizer.chat_template") == null ? null : f.getString("tokenizer.chat_template");
        long kvBytes = 2L * c.layers() * c.contextLength() * c.kvDim() * Float.BYTES;
        String name = f.get("general.name") == null ? null : f.getString("general.name");
        return new ModelFacts(architecture, c.contextLength(), quantization, params, tok.vocabSize(), template,
                chatFormat(template, tok), size + kvBytes, size, name);
    }

    /**
     * The chat layout of a file: a Llama 3.1 / 3.2 template (it writes the "Cutting Knowledge Date" system header)
     * is {@link #LLAMA32}; another template built from the Llama 3 header tokens is {@link #LLAMA3}; a file without a
     * template whose vocabulary has the Llama 3 header and end-of-turn tokens is {@link #LLAMA3} too (the layout
     * those tokens exist for). Anything else has no chat format: a template in another language is refused.
     */
    static String chatFormat(String template, Tokenizer tok) {
        boolean llama3Tokens = tok.tokenId(ChatTemplate.START_HEADER) >= 0 && tok.tokenId(ChatTemplate.END_HEADER) >= 0
                && tok.tokenId(ChatTemplate.EOT) >= 0;
        if (template == null) {
            return llama3Tokens ? LLAMA3 : null;
        }
        if (!template.contains(ChatTemplate.START_HEADER) || !template.contains(ChatTemplate.EOT) || !llama3Tokens) {
            throw new IllegalArgumentException("the chat template is not a Llama 3 template (no "
                    + ChatTemplate.START_HEADER + " / " + ChatTemplate.EOT + " turns): only Llama 3 chat is supported");
        }
        return template.contains("Cutting Knowledge Date") ? LLAMA32 : LLAMA3;
    }

    /** Places nothing: the tensors' descriptors stand for the weights, so no tensor data is read. */
    private record HeaderOnly(GgufFile f) implements LlamaWeights.Placement<GgufTensorInfo, GgufTensorInfo> {
        @Override
        public GgufTensorInfo matrix(GgufTensorInfo t, int cols, int rows) {
            return t;
        }

        @Override
        public GgufTensorInfo vector(GgufTensorInfo t, int n) {
            return t;
        }

        @Override
        public float[] read(GgufTensorInfo vector, int n) {
            return f.readFloats(vector); // rope_freqs only: a small vector
        }
    }
}
