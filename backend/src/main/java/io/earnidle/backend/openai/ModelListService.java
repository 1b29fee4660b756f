package io.earnidle.backend.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.ModelCatalog;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code GET /v1/models} and {@code GET /v1/models/{id}}: the catalog, with OpenAI's fields and ours. */
final class ModelListService implements HttpService {
    private final OpenAiApi api;

    ModelListService(OpenAiApi api) {
        this.api = api;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", OpenAiError.guard(this::list))
                .get("/{id}", OpenAiError.guard(this::one));
    }

    private void list(ServerRequest req, ServerResponse res) {
        api.callers().customer(req, res);
        ObjectNode body = Json.object();
        body.put("object", "list");
        ArrayNode data = body.putArray("data");
        api.catalog().list().forEach(e -> data.add(json(e)));
        Json.send(res, Status.OK_200, body);
    }

    private void one(ServerRequest req, ServerResponse res) {
        api.callers().customer(req, res);
        Json.send(res, Status.OK_200, json(api.model(req.path().pathParameters().get("id"))));
    }

    static ObjectNode json(ModelCatalog.Entry e) {
        ObjectNode o = Json.object();
        o.put("id", e.model().id());
        o.put("object", "model");
        o.put("created", e.createdAt().getEpochSecond());
        o.put("owned_by", "earnidle");
        o.put("name", e.name());
        o.put("context_length", e.model().contextLength());
        o.put("vocab_size", e.model().vocabSize());
        o.put("architecture", e.architecture());
        o.put("quantization", e.quantization());
        o.put("parameter_count", e.parameterCount());
        o.put("chat", e.chatFormat() != null);
        o.put("memory_bytes", e.memoryBytes());
        o.put("size_bytes", e.model().sizeBytes());
        o.put("sha256", e.model().sha256());
        o.put("url", e.model().url());
        return o;
    }
}
