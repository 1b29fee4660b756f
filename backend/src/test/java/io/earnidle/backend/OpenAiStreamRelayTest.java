package io.earnidle.backend;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.SseException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.models.Models;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.loop.JobSpec;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import org.junit.jupiter.api.Test;

import static io.earnidle.backend.LeaseApi.Node;
import static io.earnidle.backend.TestSupport.Api;
import static io.earnidle.backend.TestSupport.CUSTOMER_KEY;
import static io.earnidle.backend.TestSupport.Resp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokens relayed while the node decodes (issue 20, docs/api.md "Streaming"): a {@code /v1} stream forwards the
 * partial output its job's node reports in {@code POST /api/inference/progress} heartbeats. The nodes here are
 * scripted through the real HTTP endpoints and run the real model (JVM engine), so each step happens only once the
 * test has seen the one before it: a heartbeat, then the client reading the relayed text while the node still holds
 * its result, then the result, verified (every result sampled), then the rest of the text.
 */
@ServerTest
class OpenAiStreamRelayTest extends BackendServerTest {
    private static final String TINY = Models.SYNTHETIC_TINY;
    private static final int MAX_TOKENS = 8;
    private static final int PARTIAL_TOKENS = 3;
    private final Api api;
    private final LeaseApi leases;
    private final OpenAIClient openai;

    OpenAiStreamRelayTest(Http1Client client, URI uri) {
        this.api = new Api(client);
        this.leases = new LeaseApi(api);
        // no retries: every request must be answered once, as it is
        this.openai = OpenAIOkHttpClient.builder().baseUrl(uri + "/v1").apiKey(CUSTOMER_KEY).maxRetries(0).build();
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        start(routing, Map.of(
                "earnidle.trust.sample-rate", "1.0",
                "earnidle.trust.verifier-threads", "1"), java.time.Clock.systemUTC());
    }

    /** A stream of the chat and its chunks; the first chunk (the assistant's role) has been read. */
    private record Stream(StreamResponse<ChatCompletionChunk> response, Iterator<ChatCompletionChunk> chunks,
                          String jobId) implements AutoCloseable {
        /** The text of the next chunk: one piece of the answer. */
        String nextText() {
            ChatCompletionChunk c = chunks.next();
            return c.choices().get(0).delta().content().orElseThrow(() -> new AssertionError("no text: " + c));
        }

        /** The rest of the answer's text, up to the end of the stream; the last choice has a finish reason. */
        String rest() {
            StringBuilder text = new StringBuilder();
            String finish = null;
            while (chunks.hasNext()) {
                ChatCompletionChunk.Choice choice = chunks.next().choices().get(0);
                choice.delta().content().ifPresent(text::append);
                if (choice.finishReason().isPresent()) {
                    finish = choice.finishReason().get().asString();
                }
            }
            assertTrue(finish != null && finish.matches("stop|length"), "finish reason " + finish);
            return text.toString();
        }

        @Override
        public void close() {
            response.close();
        }
    }

    private Stream stream(String user, boolean verifiedOnly) {
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(TINY).addUserMessage(user)
                .maxCompletionTokens(MAX_TOKENS).temperature(0.8).topP(0.9).seed(11);
        if (verifiedOnly) {
            p.putAdditionalBodyProperty("verified_only", JsonValue.from(true));
        }
        StreamResponse<ChatCompletionChunk> response = openai.chat().completions().createStreaming(p.build());
        Iterator<ChatCompletionChunk> chunks = response.stream().iterator();
        ChatCompletionChunk first = chunks.next();
        assertEquals("assistant", first.choices().get(0).delta().role().orElseThrow().asString());
        String id = first.id();
        return new Stream(response, chunks, id.substring(id.indexOf('-') + 1));
    }

    /** The honest output of a lease, whole and cut after {@code PARTIAL_TOKENS} (what a heartbeat reports). */
    private record Output(GenerationResult partial, GenerationResult whole) {
    }

    private Output run(JsonNode lease) {
        LlamaModel model = LlamaModel.load(ByteBuffer.wrap(api.get(lease.path("model").path("url").asText(), null)
                .bytes()));
        GenerationRequest request = JobSpec.parse(lease.toString()).toRequest();
        GenerationResult whole = model.generate(request);
        GenerationResult partial = model.generate(new GenerationRequest(request.prompt(), request.promptIds(),
                request.addBos(), PARTIAL_TOKENS, request.sampling()));
        // the test's premise: the answer goes on after the heartbeat, and the heartbeat's text begins it
        assertTrue(whole.tokenIds().length > PARTIAL_TOKENS, "the answer is longer than the heartbeat");
        assertTrue(whole.text().startsWith(partial.text()) && !partial.text().isEmpty(),
                () -> "partial " + partial.text() + " / whole " + whole.text());
        return new Output(partial, whole);
    }

    private void heartbeat(Node node, JsonNode lease, int[] ids, String text) {
        Resp r = leases.progress(node, lease, ids, text);
        assertEquals(200, r.status(), r.text());
    }

    private void submit(Node node, JsonNode lease, GenerationResult result) {
        String body = """
                {"job_id":"%s","lease_id":"%s","text":%s,"token_ids":%s,"token_count":%d,"engine":"jvm",
                 "timing":{"prefill_ms":1.0,"decode_ms":1.0}}""".formatted(lease.path("job_id").asText(),
                lease.path("lease_id").asText(), TestSupport.quote(result.text()), Json.write(result.tokenIds()),
                result.tokenIds().length);
        Resp r = api.result(node.token(), body, UUID.randomUUID().toString());
        assertEquals(200, r.status(), r.text());
    }

    private JsonNode job(String jobId) {
        return api.get("/api/jobs/" + jobId, CUSTOMER_KEY).json();
    }

    @Test
    void theNodesPartialOutputIsStreamedBeforeItsResultAndTheRestAfterVerification() {
        Node node = leases.register(100_000);
        try (Stream s = stream("tell me about foxes", false)) {
            JsonNode lease = api.lease(node.token(), s.jobId());
            Output out = run(lease);
            heartbeat(node, lease, out.partial().tokenIds(), out.partial().text());
            // the node holds its result until the client has the relayed text
            assertEquals(out.partial().text(), s.nextText());
            assertEquals("leased", job(s.jobId()).path("status").asText(), "no result was submitted yet");
            submit(node, lease, out.whole());
            assertEquals(out.whole().text().substring(out.partial().text().length()), s.rest());
            assertEquals("passed", job(s.jobId()).path("verification").asText());
        }
    }

    /**
     * {@code verified_only}: the same heartbeat is not relayed. A plain stream beside it, whose node sent its
     * heartbeat after this one's, has its partial text relayed first (the streams look at their jobs at the same
     * interval); the verified-only stream's text still comes in one piece, the accepted result.
     */
    @Test
    void aVerifiedOnlyStreamCarriesNothingBeforeTheResultIsAccepted() {
        Node first = leases.register(100_000);
        Node second = leases.register(100_000);
        try (Stream verified = stream("tell me about owls", true); Stream plain = stream("tell me about foxes", false)) {
            JsonNode lease = api.lease(first.token(), verified.jobId());
            JsonNode plainLease = api.lease(second.token(), plain.jobId());
            Output out = run(lease);
            Output plainOut = run(plainLease);
            heartbeat(first, lease, out.partial().tokenIds(), out.partial().text());
            heartbeat(second, plainLease, plainOut.partial().tokenIds(), plainOut.partial().text());
            assertEquals(plainOut.partial().text(), plain.nextText(), "partial output is relayed");

            submit(first, lease, out.whole());
            assertEquals(out.whole().text(), verified.nextText(), "the accepted text, in one piece");
            assertEquals("completed", job(verified.jobId()).path("status").asText());
            assertEquals("passed", job(verified.jobId()).path("verification").asText());
            assertEquals("", verified.rest());

            submit(second, plainLease, plainOut.whole());
            assertEquals(plainOut.whole().text().substring(plainOut.partial().text().length()), plain.rest());
        }
    }

    /**
     * The node whose partial output was relayed reports a failure; another node's result is accepted and does not
     * continue the relayed text: the stream cannot take it back and ends with {@code streamed_output_rejected}.
     */
    @Test
    void aRelayedTextTheAcceptedResultContradictsEndsTheStreamWithAnError() {
        Node relayed = leases.register(100_000);
        Node next = leases.register(100_000);
        try (Stream s = stream("tell me about foxes", false)) {
            JsonNode lease = api.lease(relayed.token(), s.jobId());
            Output out = run(lease);
            String claim = "not" + out.whole().text();
            heartbeat(relayed, lease, out.partial().tokenIds(), claim);
            assertEquals(claim, s.nextText());
            Resp failed = leases.failure(relayed, lease, "out_of_memory");
            assertEquals(200, failed.status(), failed.text());

            JsonNode nextLease = api.lease(next.token(), s.jobId());
            assertNotEquals(lease.path("lease_id").asText(), nextLease.path("lease_id").asText());
            submit(next, nextLease, run(nextLease).whole());
            SseException e = assertThrows(SseException.class, s::rest);
            assertTrue(String.valueOf(e.getMessage()).contains("streamed_output_rejected")
                    || String.valueOf(e.body()).contains("streamed_output_rejected"), e::toString);
            JsonNode job = job(s.jobId());
            assertEquals("passed", job.path("verification").asText(), job.toString());
            assertEquals(out.whole().text(), job.path("result").path("text").asText(), job.toString());
        }
    }
}
