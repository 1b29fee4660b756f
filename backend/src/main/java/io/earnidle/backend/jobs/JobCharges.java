package io.earnidle.backend.jobs;

import java.io.UncheckedIOException;

import io.earnidle.backend.billing.PromptTokens;
import io.earnidle.backend.billing.RateCard;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.Models;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * Per-token billing of a job (docs/api.md "Pricing"). At submission the price of {@code max_tokens} is reserved
 * ({@code jobs.price_micro_usdc}, counted against the balance while the job is queued or leased); a completed job is
 * charged its request fee + prompt tokens x input rate + completion tokens x output rate, never more than the
 * reservation, and the rest of the reservation is released with the job; a job that fails or is cancelled is never
 * charged.
 */
public final class JobCharges {
    private JobCharges() {
    }

    /** The reservation of a job: its rate applied to an upper bound of its prompt tokens and to all of max_tokens. */
    public static long reservation(RateCard.Rate rate, String prompt, int[] promptIds, long maxTokens) {
        return rate.cost(PromptTokens.upperBound(prompt, promptIds == null ? 0 : promptIds.length), maxTokens);
    }

    /** The job's rate: the one fixed at its submission, else (a platform job, an older job) the rate card's now. */
    static RateCard.Rate rate(RateCard card, DbRow job) {
        Long request = Database.lngOrNull(job, "rate_request_micro_usdc");
        if (request == null) {
            return card.of(Database.str(job, "model_id"));
        }
        return new RateCard.Rate(request, Database.lng(job, "rate_input_micro_usdc"),
                Database.lng(job, "rate_output_micro_usdc"));
    }

    /**
     * The prompt tokens of {@code job} as its node reads them: its ids, or its text through the model's tokenizer (its
     * upper bound, bytes + BOS, when the model's file cannot be read here: never more than was reserved).
     */
    static long promptTokens(Models models, Models.Model model, DbRow job) {
        String ids = Database.str(job, "prompt_ids_json");
        if (ids != null) {
            return Json.parse(ids).size();
        }
        String prompt = Database.str(job, "prompt");
        try {
            return models.tokenizers().encode(model, prompt, Database.bool(job, "add_bos")).length;
        } catch (UncheckedIOException e) {
            return PromptTokens.upperBound(prompt, 0);
        }
    }

    /** What a completed job is charged: its prompt and completion tokens, and the charge in micro-USDC. */
    public record Charge(long promptTokens, int completionTokens, long microUsdc) {
    }

    /**
     * The charge of {@code job} completed with {@code completionTokens}: its rate applied to its prompt and completion
     * tokens, at most its reservation.
     */
    public static Charge of(RateCard card, Models models, Models.Model model, DbRow job, int completionTokens) {
        long prompt = promptTokens(models, model, job);
        long cost = rate(card, job).cost(prompt, completionTokens);
        return new Charge(prompt, completionTokens, Math.min(cost, Database.lng(job, "price_micro_usdc")));
    }

    /**
     * {@link #of} recorded on the job (in the result's transaction); returns the charge. The node's result path
     * records it with the job's completion instead (submit-job-charged).
     */
    public static long charge(DbExecute tx, RateCard card, Models models, Models.Model model, DbRow job,
                              int completionTokens) {
        Charge c = of(card, models, model, job, completionTokens);
        tx.namedUpdate("billing-record-charge", c.promptTokens(), c.completionTokens(), c.microUsdc(),
                Database.str(job, "id"));
        return c.microUsdc();
    }
}
