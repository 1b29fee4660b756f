package io.earnidle.backend.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * The model catalog ({@code ./earnidle model add|list|remove}, docs/api.md): GGUF files copied under
 * {@code <data-dir>/models} as {@code <id>.gguf}, each with the facts {@link ModelFacts} read from its header. A
 * removed model is retired (its row stays for the jobs that ran on it) and its file deleted.
 */
public final class ModelCatalog {
    /** Ids appear in URLs ({@code /models/<id>.gguf}) and in the OpenAI {@code model} field. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** A catalog row. Facts are null for a row registered before the catalog existed and not re-added since. */
    public record Entry(Models.Model model, String status, String name, String architecture, String quantization,
                        Long parameterCount, String chatFormat, Long memoryBytes, Instant createdAt) {
    }

    private final Database db;
    private final Models models;

    public ModelCatalog(Database db, Models models) {
        this.db = db;
        this.models = models;
    }

    public List<Entry> list() {
        return Database.list(db.execute(), "catalog-active").stream().map(ModelCatalog::entry).toList();
    }

    /** The active model {@code id}. */
    public Optional<Entry> find(String id) {
        return Database.get(db.execute(), "catalog-model", id).map(ModelCatalog::entry)
                .filter(e -> e.status().equals("active"));
    }

    /**
     * Adds {@code source} as model {@code id}: checks it ({@link ModelFacts#read}), copies it into the models
     * directory, hashes the copy and registers it. A malformed or non-Llama file, a bad id or an id in use
     * is an {@link IllegalArgumentException} and changes nothing.
     */
    public Entry add(Path source, String id, String name, Instant now) throws IOException {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("model id must be 1-128 letters, digits, '.', '_' or '-' and start "
                    + "with a letter or digit, got " + id);
        }
        ModelFacts facts = ModelFacts.read(source);
        Optional<DbRow> existing = Database.get(db.execute(), "catalog-model", id);
        if (existing.isPresent() && "active".equals(Database.str(existing.get(), "status"))) {
            throw new IllegalArgumentException("model " + id + " is already in the catalog; remove it first");
        }
        String fileName = id + ".gguf";
        Path target = models.dir().resolve(fileName);
        Files.createDirectories(models.dir());
        Path tmp = Files.createTempFile(models.dir(), id, ".part");
        String sha256;
        try {
            Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
            sha256 = Models.sha256(tmp); // the hash of the copy that is served
            if (Files.size(tmp) != facts.sizeBytes()) {
                throw new IOException(source + " changed while it was being copied");
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        Models.Model m = new Models.Model(id, fileName, sha256, facts.sizeBytes(), facts.vocabSize(),
                facts.contextLength());
        String display = name != null ? name : facts.displayName() != null ? facts.displayName() : id;
        db.inTransaction(tx -> {
            if (existing.isEmpty()) {
                tx.namedInsert("insert-model", m.id(), m.fileName(), m.sha256(), m.sizeBytes(), m.vocabSize(),
                        m.contextLength(), Database.ts(now));
            } else if (tx.namedUpdate("catalog-reactivate", m.fileName(), m.sha256(), m.sizeBytes(), m.vocabSize(),
                    m.contextLength(), Database.ts(now), m.id()) != 1) {
                throw new IllegalStateException("model " + id + " was added by someone else meanwhile");
            }
            recordFacts(tx, id, facts, display);
            return null;
        });
        return find(id).orElseThrow();
    }

    /**
     * Retires model {@code id} and deletes its file. Refused ({@link IllegalStateException}) while jobs on it are
     * queued, leased or being verified, and for the built-in synthetic model (re-created at every start).
     */
    public void remove(String id) throws IOException {
        if (Models.SYNTHETIC_TINY.equals(id)) {
            throw new IllegalStateException("model " + id + " is built in: the backend re-creates it at every start");
        }
        Entry e = find(id).orElseThrow(() -> new IllegalArgumentException("no model " + id + " in the catalog"));
        db.inTransaction(tx -> {
            long inFlight = Database.count(tx, "catalog-jobs-in-flight", id);
            if (inFlight > 0) {
                throw new IllegalStateException("model " + id + " has " + inFlight + " job(s) in flight (queued, "
                        + "leased or being verified); remove it once they are done");
            }
            tx.namedUpdate("catalog-retire", id);
            return null;
        });
        Files.deleteIfExists(models.dir().resolve(e.model().fileName()));
    }

    /** Stores the facts of model {@code id}'s file. */
    static void recordFacts(DbExecute exec, String id, ModelFacts f, String name) {
        exec.namedUpdate("catalog-set-facts", name, f.architecture(), f.quantization(), f.parameterCount(),
                f.chatFormat(), f.chatTemplate(), f.memoryBytes(), id);
    }

    private static Entry entry(DbRow r) {
        return new Entry(Models.model(r), Database.str(r, "status"), Database.str(r, "display_name"),
                Database.str(r, "architecture"), Database.str(r, "quantization"),
                Database.lngOrNull(r, "parameter_count"), Database.str(r, "chat_format"),
                Database.lngOrNull(r, "memory_bytes"), Database.instant(r, "created_at"));
    }
}
