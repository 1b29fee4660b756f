package io.earnidle.backend.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;

import io.earnidle.backend.CliRun;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.demo.Seeder;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;
import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufTensorInfo;
import io.earnidle.node.gguf.GgufWriter;
import io.earnidle.node.llama.LlamaConfig;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.synth.ModelSynthesizer;
import io.helidon.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./earnidle model add|list|remove} ({@link ModelCatalogCli}) on an embedded database of its own: what it
 * records about a file, and every refusal with its message.
 */
class ModelCatalogCliTest {
    private Path dir;
    private Config config;
    private String out;
    private String err;

    @BeforeEach
    void dataDir() throws IOException {
        dir = Files.createTempDirectory("earnidle-catalog-test");
        config = CliRun.config(dir);
    }

    @AfterEach
    void delete() throws IOException {
        CliRun.deleteTree(dir);
    }

    private int run(String... args) {
        CliRun.Result r = CliRun.run(ModelCatalogCli::run, config, args);
        out = r.out();
        err = r.err();
        return r.status();
    }

    private Path tiny(String name, long seed) throws IOException {
        Path f = dir.resolve(name);
        ModelSynthesizer.writeTiny(f, seed);
        return f;
    }

    private <T> T withCatalog(java.util.function.BiFunction<Database, ModelCatalog, T> work) {
        Settings settings = Settings.from(config.get("earnidle"));
        try (Database db = Database.open(config.get("db"), settings)) {
            return work.apply(db, new ModelCatalog(db, new Models(db, settings.modelsDir())));
        }
    }

    @Test
    void addRecordsTheFileAndItsFacts() throws Exception {
        Path file = tiny("tiny.gguf", 1L);
        assertEquals(0, run("add", file.toString(), "--id", "tiny-a", "--name", "Tiny A"), err);
        String sha = Models.sha256(file);
        assertTrue(out.contains("added tiny-a (Tiny A)") && out.contains(sha) && out.contains("llama f32"), out);
        Path served = dir.resolve("models/tiny-a.gguf");
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(served), "the file is copied as it is");

        LlamaConfig c = LlamaModel.load(file).config();
        GgufFile f = GgufFile.read(Files.readAllBytes(file));
        long params = f.tensors().stream().mapToLong(GgufTensorInfo::elementCount).sum();
        ModelCatalog.Entry e = withCatalog((db, catalog) -> catalog.find("tiny-a").orElseThrow());
        assertEquals("Tiny A", e.name());
        assertEquals(sha, e.model().sha256());
        assertEquals(Files.size(file), e.model().sizeBytes());
        assertEquals("llama", e.architecture());
        assertEquals("f32", e.quantization());
        assertEquals(params, e.parameterCount());
        assertEquals(c.contextLength(), e.model().contextLength());
        assertEquals(c.vocabSize(), e.model().vocabSize());
        // the file plus K and V (f32) for every layer at the full context
        assertEquals(Files.size(file) + 2L * c.layers() * c.contextLength() * c.kvDim() * 4, e.memoryBytes());
        assertEquals(ModelFacts.LLAMA3, e.chatFormat(), "no template, Llama 3 header tokens: the Llama 3 layout");

        assertEquals(0, run("list"), err);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("tiny-a ") && l.contains("f32") && l.contains("llama3")),
                out);
        assertEquals(1, run("add", file.toString(), "--id", "tiny-a"));
        assertTrue(err.contains("already in the catalog"), err);
    }

    @Test
    void aLlama32TemplateAndAQuantizedFileAreRecognised() throws Exception {
        Path file = TinyModels.write(dir.resolve("q4.gguf"), "q4_0", 3L, TinyModels.LLAMA32_TEMPLATE);
        assertEquals(0, run("add", file.toString(), "--id", "tiny-q4"), err);
        ModelCatalog.Entry e = withCatalog((db, catalog) -> catalog.find("tiny-q4").orElseThrow());
        assertEquals("q4_0", e.quantization());
        assertEquals(ModelFacts.LLAMA32, e.chatFormat());
        assertTrue(e.name().startsWith("SYNTHETIC tiny"), "the name defaults to general.name: " + e.name());
    }

    @Test
    void malformedAndNonLlamaFilesAreRefused() throws Exception {
        Path random = dir.resolve("random.gguf");
        byte[] noise = new byte[4096];
        new java.util.Random(1).nextBytes(noise);
        Files.write(random, noise);
        assertEquals(1, run("add", random.toString(), "--id", "noise"));
        assertTrue(err.contains("not a usable GGUF model"), err);

        Path truncated = dir.resolve("truncated.gguf");
        byte[] whole = ModelSynthesizer.tinyBytes(1L);
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        assertEquals(1, run("add", truncated.toString(), "--id", "half"));
        assertTrue(err.contains("not a usable GGUF model"), err);

        Path gpt2 = dir.resolve("gpt2.gguf");
        Files.write(gpt2, new GgufWriter().putString("general.architecture", "gpt2")
                .putUInt32("gpt2.context_length", 1024).toBytes());
        assertEquals(1, run("add", gpt2.toString(), "--id", "gpt2"));
        assertTrue(err.contains("architecture gpt2 is not supported: only Llama models"), err);

        Path chatml = TinyModels.write(dir.resolve("chatml.gguf"), "f32", 3L,
                "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}");
        assertEquals(1, run("add", chatml.toString(), "--id", "chatml"));
        assertTrue(err.contains("not a Llama 3 template"), err);

        assertEquals(1, run("add", dir.resolve("missing.gguf").toString(), "--id", "missing"));
        assertEquals(1, run("add", tiny("ok.gguf", 1L).toString(), "--id", "bad/id"));
        assertTrue(err.contains("model id must be"), err);

        assertEquals(0, run("list"), err);
        assertEquals(1, out.lines().count(), "nothing was added: " + out);
        Path models = dir.resolve("models");
        if (Files.exists(models)) {
            try (Stream<Path> files = Files.list(models)) {
                assertEquals(0, files.count(), "no file is left behind");
            }
        }
    }

    @Test
    void removeIsRefusedWhileJobsAreInFlight() throws Exception {
        assertEquals(0, run("add", tiny("a.gguf", 1L).toString(), "--id", "busy"), err);
        assertEquals(0, run("add", tiny("b.gguf", 2L).toString(), "--id", "idle"), err);
        withCatalog((db, catalog) -> {
            Settings settings = Settings.from(config.get("earnidle"));
            Ledger ledger = new Ledger(Clock.systemUTC(), Duration.ZERO);
            Seeder.seed(db, ledger, settings);
            return new Jobs(settings, db, ledger).create(Seeder.DEMO_CALLER, "busy", "hello", null,
                    Json.object(), 4);
        });
        assertEquals(1, run("remove", "busy"));
        assertTrue(err.contains("1 job(s) in flight"), err);
        assertTrue(Files.exists(dir.resolve("models/busy.gguf")));

        assertEquals(0, run("remove", "idle"), err);
        assertFalse(Files.exists(dir.resolve("models/idle.gguf")), "the file of a removed model is deleted");
        assertEquals(0, run("list"), err);
        assertTrue(out.contains("busy") && !out.contains("idle"), out);
        assertEquals(1, run("remove", "idle"));
        assertTrue(err.contains("no model idle"), err);
        assertEquals(0, run("add", tiny("b2.gguf", 2L).toString(), "--id", "idle"), "a removed id can be added again: " + err);
        assertEquals(1, run("remove", Models.SYNTHETIC_TINY));
        assertTrue(err.contains("built in"), err);
    }

    @Test
    void usageErrorsExitWith2() {
        assertEquals(2, run());
        assertEquals(2, run("add", "file.gguf"));
        assertEquals(2, run("remove"));
        assertEquals(2, run("list", "extra"));
        assertTrue(err.contains("usage: model add FILE.gguf --id ID"), err);
    }
}
