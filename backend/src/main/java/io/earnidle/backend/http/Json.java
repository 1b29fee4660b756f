package io.earnidle.backend.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * JSON with Jackson: request bodies read with the media-type and size checks (415, 413, 400 malformed-json),
 * JSON responses, and (de)serialising stored JSON. Errors are {@link ProblemHandler}'s job.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    private static final HttpMediaType JSON = HttpMediaType.create("application/json; charset=utf-8");

    private Json() {
    }

    /** The raw body bytes after checking {@code Content-Type: application/json} (415) and the size limit (413). */
    public static byte[] readBytes(ServerRequest req, int maxBytes) {
        Optional<HttpMediaType> contentType = req.headers().contentType();
        if (contentType.isEmpty() || !contentType.get().mediaType().text().equalsIgnoreCase("application/json")) {
            throw Problem.unsupportedMediaType("Content-Type must be application/json, got "
                    + contentType.map(HttpMediaType::text).orElse("none"));
        }
        long declared = req.headers().contentLength().orElse(-1L);
        if (declared > maxBytes) {
            throw Problem.tooLarge("body is " + declared + " bytes, the limit is " + maxBytes);
        }
        SlowClients slow = SlowClients.of(req);
        if (slow != null) {
            slow.beginBody();
        }
        try {
            return readBody(req, maxBytes);
        } finally {
            if (slow != null && slow.endBody()) {
                throw new CloseConnectionException("the request body did not arrive in time");
            }
        }
    }

    private static byte[] readBody(ServerRequest req, int maxBytes) {
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw Problem.tooLarge("body is over the limit of " + maxBytes + " bytes");
            }
        } catch (IOException e) {
            throw Problem.malformed("could not read the body: " + e.getMessage());
        }
        return bytes;
    }

    /** Parses a JSON object body (400 malformed-json if it is not JSON or not an object). */
    public static ObjectNode parseObject(byte[] bytes) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw Problem.malformed("body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (node == null || !node.isObject()) {
            throw Problem.malformed("body must be a JSON object");
        }
        return (ObjectNode) node;
    }

    /** The request's JSON object body, at most {@code maxBytes} long. */
    public static ObjectNode readObject(ServerRequest req, int maxBytes) {
        return parseObject(readBytes(req, maxBytes));
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** Parses JSON this server stored itself (an invalid one is a bug: 500). */
    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is invalid", e);
        }
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void send(ServerResponse res, Status status, JsonNode body) {
        sendRaw(res, status, write(body));
    }

    /**
     * Sends a new resource with {@code Location: <the path posted to>/<id>} (the collection is the request's path,
     * so no service repeats where it is mounted).
     */
    public static void sendCreated(ServerRequest req, ServerResponse res, Status status, String id, JsonNode body) {
        String collection = req.path().absolute().path();
        res.headers().set(HeaderNames.LOCATION, (collection.endsWith("/") ? collection : collection + "/") + id);
        send(res, status, body);
    }

    public static void sendRaw(ServerResponse res, Status status, String json) {
        res.status(status);
        res.headers().contentType(JSON);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
