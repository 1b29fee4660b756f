package io.earnidle.backend.http;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * JSON plumbing shared by all services: body reading with the media-type and size checks, JSON and problem+json
 * responses, bearer tokens, hashing and random identifiers.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    public static final String PROBLEM_BASE = "https://earnidle.io/problems/";
    private static final System.Logger LOGGER = System.getLogger(Json.class.getName());
    private static final HttpMediaType JSON = HttpMediaType.create("application/json; charset=utf-8");
    private static final HttpMediaType PROBLEM_JSON = HttpMediaType.create("application/problem+json; charset=utf-8");
    private static final SecureRandom RANDOM = new SecureRandom();

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

    public static ObjectNode readObject(ServerRequest req, int maxBytes) {
        return parseObject(readBytes(req, maxBytes));
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is invalid", e);
        }
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void send(ServerResponse res, Status status, JsonNode body) {
        sendRaw(res, status, write(body));
    }

    public static void sendRaw(ServerResponse res, Status status, String json) {
        res.status(status);
        res.headers().contentType(JSON);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(json.getBytes(StandardCharsets.UTF_8));
    }

    public static void sendProblem(ServerRequest req, ServerResponse res, Problem p) {
        ObjectNode body = object();
        body.put("type", PROBLEM_BASE + p.type());
        body.put("title", p.title());
        body.put("status", p.status());
        body.put("detail", p.detail());
        body.put("instance", req.path().path());
        res.status(Status.create(p.status()));
        res.headers().contentType(PROBLEM_JSON);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        if (p.status() == 401) {
            res.headers().set(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        res.send(write(body).getBytes(StandardCharsets.UTF_8));
    }

    /** Registers the global error handlers: every failure becomes problem+json. */
    public static void problemHandlers(HttpRouting.Builder routing) {
        routing.error(Problem.class, Json::sendProblem);
        routing.error(io.helidon.http.RequestException.class, (req, res, e) -> {
            String detail = e.getMessage() == null || e.getMessage().isBlank() ? e.status().reasonPhrase()
                    : e.getMessage();
            sendProblem(req, res, new Problem(e.status().code(), e.status().code() == 404 ? "not-found" : "http",
                    e.status().reasonPhrase(), detail));
        });
        routing.error(io.helidon.http.HttpException.class, (req, res, e) -> {
            String detail = e.getMessage() == null || e.getMessage().isBlank() ? e.status().reasonPhrase()
                    : e.getMessage();
            sendProblem(req, res, new Problem(e.status().code(), e.status().code() == 404 ? "not-found" : "http",
                    e.status().reasonPhrase(), detail));
        });
        routing.error(Exception.class, (req, res, e) -> {
            LOGGER.log(Level.ERROR, "Unhandled error on " + req.prologue().method().text() + " " + req.path().path(), e);
            sendProblem(req, res, new Problem(500, "internal", "Internal server error",
                    "the server failed to process the request; nothing was changed"));
        });
    }

    /** The bearer token of the request, or 401. */
    public static String bearer(ServerRequest req) {
        String value = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
        if (value == null || value.isBlank()) {
            throw Problem.unauthorized("missing Authorization: Bearer <token> header");
        }
        if (!value.regionMatches(true, 0, "Bearer ", 0, 7) || value.substring(7).isBlank()) {
            throw Problem.unauthorized("Authorization header must use the Bearer scheme");
        }
        return value.substring(7).trim();
    }

    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256Hex(String text) {
        return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A random identifier {@code prefix + 32 hex digits} (128 bits). */
    public static String newId(String prefix) {
        return prefix + randomHex(16);
    }

    public static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
