package io.earnidle.backend.capability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.Models;
import io.earnidle.node.llama.LlamaModel;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Benchmark jobs: a short job the backend chooses for a session (a random prompt from {@link #CORPUS}, random
 * greedy-or-sampled settings and seed, on {@code benchmark.model}), reserved for it and leased before any other job,
 * through the normal lease path: the node cannot tell it from a customer job of the same model. Unpaid (price 0).
 */
final class Benchmarks {
    /** Benchmark prompts: ordinary text of the kind customers send. */
    static final List<String> CORPUS = List.of(
            "The quick brown fox jumps over the lazy dog",
            "Write a short note to a friend about the weather today",
            "Once upon a time in a small village by the sea",
            "Explain in simple words how a bicycle stays upright",
            "List three things you would take on a long walk",
            "The history of the printing press begins with",
            "A recipe for bread needs flour, water, salt and",
            "Summarize the plot of a story about a lost key",
            "In the morning the market opens and the first traders",
            "Describe the sound of rain on a tin roof",
            "The train left the station at noon and headed north",
            "Tell me a fact about the moon");

    private record Tokenizing(String sha256, LlamaModel model) {
    }

    private final CapabilitySettings settings;
    private final Database db;
    private final Models models;
    private final Random random = new SecureRandom();
    private volatile Tokenizing tokenizing;

    Benchmarks(CapabilitySettings settings, Database db, Models models) {
        this.settings = settings;
        this.db = db;
        this.models = models;
    }

    /** The benchmark model, when it is served. */
    Optional<Models.Model> model() {
        return models.find(db.execute(), settings.benchmarkModel());
    }

    /** Queues a benchmark job for {@code sessionId}; returns its id. */
    String create(String sessionId, Models.Model model, Instant now) {
        String prompt = CORPUS.get(random.nextInt(CORPUS.size()));
        ObjectNode sampling = Json.object();
        sampling.put("temperature", random.nextBoolean() ? 0.0 : 0.7);
        sampling.put("top_k", 40L);
        sampling.put("top_p", 0.95);
        sampling.put("seed", random.nextLong(1L << 31));
        String jobId = Ids.newId("job_");
        db.execute().namedInsert("cap-insert-benchmark-job", jobId, model.id(), prompt, Json.write(sampling),
                settings.benchmarkMaxTokens(), ts(now), sessionId);
        return jobId;
    }

    /**
     * Tokens of the prompt of a job on the benchmark model (its benchmarks, and customer jobs with a text prompt), with
     * the node's tokenizer: the benchmark model's own, loaded once.
     */
    int promptTokens(Models.Model model, DbRow job) {
        Tokenizing t = tokenizing;
        if (t == null || !t.sha256().equals(model.sha256())) {
            try {
                t = new Tokenizing(model.sha256(), LlamaModel.load(models.dir().resolve(model.fileName())));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load benchmark model " + model.id(), e);
            }
            tokenizing = t;
        }
        return t.model().tokenizer().encode(Database.str(job, "prompt"), Database.bool(job, "add_bos")).length;
    }
}
