package io.earnidle.backend.capability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

import static io.earnidle.backend.db.Database.ts;

/**
 * Which model files a session holds ("warm"). A claim alone counts for nothing: the catalog's SHA-256 of every file
 * is public, so repeating it proves nothing. At registration each claimed file gets a challenge: the SHA-256 of a
 * byte range whose offset the backend draws at random then ({@code challenge-bytes} long). Only a node that can read
 * those bytes answers it, and it cannot have precomputed the answer (about size / 1 byte possible offsets). A node
 * that delivered a result on a file has also shown it holds it. Only {@code proved} rows count as warm; a file the
 * node stops listing at its polls ({@code held}) is {@code dropped}.
 */
final class ModelPossession {
    private final CapabilitySettings settings;
    private final Models models;
    private final Random random = new SecureRandom();

    ModelPossession(CapabilitySettings settings, Models models) {
        this.settings = settings;
        this.models = models;
    }

    /** Challenges for the claimed files the backend serves (others are ignored), as the registration answer. */
    ArrayNode challenge(DbExecute exec, String sessionId, List<String> claimed, Instant now) {
        ArrayNode out = Json.array();
        for (String sha : claimed) {
            Optional<DbRow> model = Database.get(exec, "cap-model-by-sha", sha);
            if (model.isEmpty() || Database.get(exec, "cap-possession", sessionId, sha).isPresent()) {
                continue;
            }
            long size = Database.lng(model.get(), "size_bytes");
            int length = (int) Math.min(settings.challengeBytes(), size);
            long offset = size == length ? 0 : random.nextLong(size - length + 1);
            exec.namedInsert("cap-insert-possession", sessionId, sha, "challenged", offset, length, ts(now));
            ObjectNode c = out.addObject();
            c.put("sha256", sha);
            c.put("offset", offset);
            c.put("length", length);
        }
        return out;
    }

    /**
     * Checks an answer: {@code rangeSha256} must be the SHA-256 of the challenged range of the file. Returns whether
     * the file is now proved; a wrong answer marks the claim failed (a claim is answered once).
     */
    boolean answer(DbExecute exec, String sessionId, String sha, String rangeSha256, Instant now) {
        Optional<DbRow> row = Database.get(exec, "cap-possession", sessionId, sha);
        if (row.isEmpty() || !"challenged".equals(Database.str(row.get(), "status"))) {
            return row.isPresent() && "proved".equals(Database.str(row.get(), "status"));
        }
        Optional<DbRow> model = Database.get(exec, "cap-model-by-sha", sha);
        long offset = Database.lng(row.get(), "range_offset");
        int length = (int) Database.lng(row.get(), "range_length");
        boolean ok = model.isPresent() && rangeSha256.equalsIgnoreCase(rangeHash(
                Database.str(model.get(), "file_name"), offset, length));
        exec.namedUpdate("cap-update-possession", ok ? "proved" : "failed", offset, length, ts(now), sessionId, sha);
        return ok;
    }

    /** A result on the file: the session ran it, so it holds it. */
    void ran(DbExecute exec, String sessionId, String sha, Instant now) {
        if (Database.get(exec, "cap-possession", sessionId, sha).isPresent()) {
            exec.namedUpdate("cap-update-possession", "proved", null, null, ts(now), sessionId, sha);
        } else {
            exec.namedInsert("cap-insert-possession", sessionId, sha, "proved", null, null, ts(now));
        }
    }

    /** The node listed what it holds now ({@code held}): proved files it no longer lists are dropped. */
    void held(DbExecute exec, String sessionId, Set<String> held, Instant now) {
        for (DbRow r : Database.list(exec, "cap-possessions", sessionId)) {
            String sha = Database.str(r, "sha256");
            if ("proved".equals(Database.str(r, "status")) && !held.contains(sha)) {
                exec.namedUpdate("cap-drop-possession", ts(now), sessionId, sha);
            }
        }
    }

    /** The files the session is proved to hold. */
    Set<String> warm(DbExecute exec, String sessionId) {
        Set<String> out = new HashSet<>();
        for (DbRow r : Database.list(exec, "cap-possessions", sessionId)) {
            if ("proved".equals(Database.str(r, "status"))) {
                out.add(Database.str(r, "sha256"));
            }
        }
        return out;
    }

    private String rangeHash(String fileName, long offset, int length) {
        try (FileChannel ch = FileChannel.open(models.dir().resolve(fileName), StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    return "";
                }
            }
            return Ids.sha256Hex(buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
