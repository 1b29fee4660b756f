package io.earnidle.backend.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.synth.ModelSynthesizer;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/** The models the backend serves: rows of {@code models} backed by GGUF files under {@code <data-dir>/models}. */
public final class Models {
    public static final String SYNTHETIC_TINY = "synthetic-tiny-f32";

    /** A served model. */
    public record Model(String id, String fileName, String sha256, long sizeBytes, int vocabSize, int contextLength) {
        public String url() {
            return "/models/" + id + ".gguf";
        }
    }

    private final Database db;
    private final Path dir;
    private final ModelTokenizers tokenizers;

    public Models(Database db, Path dir) {
        this.db = db;
        this.dir = dir;
        this.tokenizers = new ModelTokenizers(dir);
    }

    public Path dir() {
        return dir;
    }

    /** The models' tokenizers, read from their files when first used. */
    public ModelTokenizers tokenizers() {
        return tokenizers;
    }

    public Optional<Model> find(DbExecute exec, String id) {
        return Database.get(exec, "model-by-id", id).map(Models::model);
    }

    public List<Model> list() {
        return Database.list(db.execute(), "active-models").stream().map(Models::model).toList();
    }

    static Model model(DbRow r) {
        return new Model(Database.str(r, "id"), Database.str(r, "file_name"), Database.str(r, "sha256"),
                Database.lng(r, "size_bytes"), (int) Database.lng(r, "vocab_size"),
                (int) Database.lng(r, "context_length"));
    }

    /**
     * Makes sure the synthetic tiny model exists on disk (synthesized with seed 1 when missing) and that its row
     * matches the file. Idempotent.
     */
    public Model ensureSyntheticTiny(Instant now) {
        String fileName = SYNTHETIC_TINY + ".gguf";
        Path file = dir.resolve(fileName);
        try {
            if (!Files.isRegularFile(file)) {
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, SYNTHETIC_TINY, ".part");
                ModelSynthesizer.writeTiny(tmp, 1L);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            LlamaModel llama = LlamaModel.load(file);
            Model m = new Model(SYNTHETIC_TINY, fileName, sha256(file), Files.size(file), llama.vocabSize(),
                    llama.contextLength());
            register(m, now);
            ModelCatalog.recordFacts(db.execute(), m.id(), ModelFacts.read(file), "Synthetic tiny Llama (F32)");
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare model " + SYNTHETIC_TINY + " in " + dir, e);
        }
    }

    private void register(Model m, Instant now) {
        db.inTransaction(tx -> {
            Optional<Model> existing = find(tx, m.id());
            if (existing.isEmpty()) {
                tx.namedInsert("insert-model", m.id(), m.fileName(), m.sha256(), m.sizeBytes(), m.vocabSize(),
                        m.contextLength(), Database.ts(now));
            } else if (!existing.get().equals(m)) {
                tx.namedUpdate("update-model", m.fileName(), m.sha256(), m.sizeBytes(), m.vocabSize(),
                        m.contextLength(), m.id());
            }
            return null;
        });
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
