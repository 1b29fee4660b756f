package io.earnidle.backend.billing;

import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code GET /api/rates}: the public rate card, in micro-USDC (docs/api.md "Pricing"). */
public record RateService(RateCard rates) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ObjectNode out = Json.object();
        out.put("currency", "micro-USDC");
        out.set("default", json(rates.defaults()));
        ArrayNode models = out.putArray("models");
        for (Map.Entry<String, RateCard.Rate> e : rates.byModel().entrySet()) {
            ObjectNode m = models.addObject();
            m.put("model", e.getKey());
            m.setAll(json(e.getValue()));
        }
        Json.send(res, Status.OK_200, out);
    }

    private static ObjectNode json(RateCard.Rate rate) {
        ObjectNode r = Json.object();
        r.put("request_micro_usdc", rate.requestMicroUsdc());
        r.put("input_per_token_micro_usdc", rate.inputPerTokenMicroUsdc());
        r.put("output_per_token_micro_usdc", rate.outputPerTokenMicroUsdc());
        return r;
    }
}
