package io.earnidle.backend.openai;

import java.lang.System.Logger.Level;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.LockContention;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.http.ProblemHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * An error of the {@code /v1} API in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}} with
 * OpenAI's statuses (docs/api.md). The {@code /api} endpoints keep problem+json: {@link #guard} converts the shared
 * code's {@link Problem}s for the {@code /v1} handlers only.
 */
public final class OpenAiError extends RuntimeException {
    private static final System.Logger LOGGER = System.getLogger(OpenAiError.class.getName());
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiError(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    static OpenAiError invalid(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, param == null ? null : "invalid_value", message);
    }

    static OpenAiError invalidKey(String message) {
        return new OpenAiError(401, "invalid_request_error", null, "invalid_api_key", message);
    }

    static OpenAiError modelNotFound(String model) {
        return new OpenAiError(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist or is not served; see GET /v1/models");
    }

    static OpenAiError contextLengthExceeded(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "context_length_exceeded", message);
    }

    static OpenAiError rateLimited(String message) {
        return new OpenAiError(429, "requests", null, "rate_limit_exceeded", message);
    }

    static OpenAiError insufficientQuota(String message) {
        return new OpenAiError(429, "insufficient_quota", null, "insufficient_quota",
                "You exceeded your current quota: " + message);
    }

    /** The error body. */
    public ObjectNode json() {
        ObjectNode body = Json.object();
        ObjectNode e = body.putObject("error");
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return body;
    }

    /** {@code e} as an OpenAI error: problems and HTTP errors keep their meaning; anything else is a logged 500. */
    static OpenAiError of(ServerRequest req, Throwable e) {
        if (e instanceof OpenAiError o) {
            return o;
        }
        if (e instanceof Problem p) {
            return switch (p.status()) {
                case 401 -> invalidKey(p.detail());
                case 402 -> insufficientQuota(p.detail());
                case 429 -> rateLimited(p.detail());
                case 404, 422 -> new OpenAiError(404, "invalid_request_error", null, "not_found", p.detail());
                case 400 -> invalid(null, p.detail());
                default -> new OpenAiError(p.status(), "invalid_request_error", null, null, p.detail());
            };
        }
        Status s = e instanceof HttpException h ? h.status() : e instanceof RequestException r ? r.status() : null;
        if (s != null) {
            return new OpenAiError(s.code(), s.code() >= 500 ? "server_error" : "invalid_request_error", null, null,
                    e.getMessage() == null || e.getMessage().isBlank() ? s.reasonPhrase() : e.getMessage());
        }
        if (LockContention.causedBy(e)) { // nothing kept: the same request may succeed when sent again
            return new OpenAiError(503, "server_error", null, "server_busy",
                    "The server was too busy to process your request; nothing was charged for it, send it again");
        }
        LOGGER.log(Level.ERROR, "Unhandled error on " + req.prologue().method().text() + " "
                + ProblemHandler.path(req), e);
        return new OpenAiError(500, "server_error", null, null,
                "The server had an error while processing your request; nothing was charged for it");
    }

    /** Sends {@code e} (with {@code WWW-Authenticate: Bearer} on a 401). */
    static void send(ServerResponse res, OpenAiError e) {
        if (e.status == 401) {
            res.headers().set(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        Json.send(res, Status.create(e.status), e.json());
    }

    /** {@code handler} with its failures answered in OpenAI's shape (unless the response was already sent). */
    public static Handler guard(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (Exception e) {
                if (res.isSent()) {
                    throw e;
                }
                if (LockContention.causedBy(e)) {
                    res.headers().set(HeaderNames.RETRY_AFTER,
                            String.valueOf(ProblemHandler.LOCK_RETRY_AFTER_SECONDS));
                }
                send(res, of(req, e));
            }
        };
    }
}
