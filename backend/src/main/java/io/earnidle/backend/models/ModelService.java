package io.earnidle.backend.models;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code GET /api/models}: the served models (see {@link ModelFileService} for their files). */
public record ModelService(Models models) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ArrayNode arr = Json.array();
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
}
