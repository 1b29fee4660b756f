package io.earnidle.backend.models;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code GET /api/models} and {@code GET /models/{id}.gguf}. */
public final class ModelService implements HttpService {
    private final Database db;
    private final Models models;

    public ModelService(Database db, Models models) {
        this.db = db;
        this.models = models;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/api/models", this::list)
                .get("/models/{file}", this::download);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (Models.Model m : models.list()) {
            arr.add(json(m));
        }
        ObjectNode body = Json.object();
        body.set("models", arr);
        Json.send(res, Status.OK_200, body);
    }

    public static ObjectNode json(Models.Model m) {
        ObjectNode o = Json.object();
        o.put("id", m.id());
        o.put("url", m.url());
        o.put("sha256", m.sha256());
        o.put("size_bytes", m.sizeBytes());
        o.put("vocab_size", m.vocabSize());
        o.put("context_length", m.contextLength());
        return o;
    }

    private void download(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        if (!file.endsWith(".gguf")) {
            throw Problem.notFound("no model file " + file);
        }
        String id = file.substring(0, file.length() - ".gguf".length());
        Models.Model m = models.find(db.execute(), id)
                .orElseThrow(() -> Problem.notFound("no model " + id));
        Path path = models.dir().resolve(m.fileName());
        try {
            long size = Files.size(path);
            res.status(Status.OK_200);
            res.headers().contentType(HttpMediaType.create("application/octet-stream"));
            res.headers().contentLength(size);
            res.headers().set(HeaderNames.ETAG, "\"" + m.sha256() + "\"");
            res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=3600");
            try (OutputStream out = res.outputStream()) {
                Files.copy(path, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
