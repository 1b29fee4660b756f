package io.earnidle.backend.billing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.helidon.config.Config;

/**
 * The per-model rate card (config {@code earnidle.rates}, public at {@code GET /api/rates}): a job costs its
 * request fee + prompt tokens x the input rate + completion tokens x the output rate, in micro-USDC. A model without
 * its own entry in {@code earnidle.rates.models} has the default rate.
 *
 * @param defaults the rate of every model without an entry
 * @param byModel  each listed model's rate, by model id
 */
public record RateCard(Rate defaults, Map<String, Rate> byModel) {
    /** One model's prices in micro-USDC: a fee per request, a price per prompt token and per completion token. */
    public record Rate(long requestMicroUsdc, long inputPerTokenMicroUsdc, long outputPerTokenMicroUsdc) {
        public Rate {
            if (requestMicroUsdc < 0 || inputPerTokenMicroUsdc < 0 || outputPerTokenMicroUsdc < 0) {
                throw new IllegalArgumentException("earnidle.rates.* must be >= 0");
            }
        }

        /** The fee + {@code promptTokens} x input rate + {@code completionTokens} x output rate. */
        public long cost(long promptTokens, long completionTokens) {
            return Math.addExact(requestMicroUsdc, Math.addExact(
                    Math.multiplyExact(inputPerTokenMicroUsdc, promptTokens),
                    Math.multiplyExact(outputPerTokenMicroUsdc, completionTokens)));
        }
    }

    public RateCard {
        byModel = Map.copyOf(byModel);
    }

    /** The rate of {@code modelId}. */
    public Rate of(String modelId) {
        return byModel.getOrDefault(modelId, defaults);
    }

    /**
     * Reads {@code earnidle.rates}: {@code per-job-micro-usdc} (the request fee, default 200),
     * {@code input-per-token-micro-usdc} (per prompt token, default 0), {@code per-token-micro-usdc} (per completion
     * token, default 60: the key that priced each of max_tokens before per-token billing), and {@code models}: a list
     * of {@code model} with any of those keys, over the defaults.
     */
    public static RateCard from(Config rates) {
        Rate defaults = rate(rates, new Rate(200, 0, 60));
        Map<String, Rate> byModel = new LinkedHashMap<>();
        for (Config entry : rates.get("models").asNodeList().orElse(List.of())) {
            String model = entry.get("model").asString()
                    .orElseThrow(() -> new IllegalArgumentException("earnidle.rates.models[] needs a model id"));
            if (byModel.put(model, rate(entry, defaults)) != null) {
                throw new IllegalArgumentException("earnidle.rates.models lists " + model + " twice");
            }
        }
        return new RateCard(defaults, byModel);
    }

    private static Rate rate(Config c, Rate base) {
        return new Rate(c.get("per-job-micro-usdc").asLong().orElse(base.requestMicroUsdc()),
                c.get("input-per-token-micro-usdc").asLong().orElse(base.inputPerTokenMicroUsdc()),
                c.get("per-token-micro-usdc").asLong().orElse(base.outputPerTokenMicroUsdc()));
    }
}
