package io.earnidle.backend.openai;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;

/**
 * A server-sent event stream as OpenAI writes it, on a plain streamed response (Helidon 4.1.7 has no SSE module):
 * {@code data: {json}} events, flushed one by one, ending with {@code data: [DONE]}.
 */
final class EventStream implements AutoCloseable {
    private static final HttpMediaType EVENT_STREAM = HttpMediaType.create("text/event-stream; charset=utf-8");
    private final OutputStream out;

    EventStream(ServerResponse res) {
        res.status(Status.OK_200);
        res.headers().contentType(EVENT_STREAM);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        this.out = res.outputStream();
    }

    void data(JsonNode event) {
        write("data: " + Json.write(event) + "\n\n");
    }

    void done() {
        write("data: [DONE]\n\n");
    }

    private void write(String s) {
        try {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the client closed the stream", e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException | UncheckedIOException e) {
            // the client is gone: nothing left to tell it
        }
    }
}
