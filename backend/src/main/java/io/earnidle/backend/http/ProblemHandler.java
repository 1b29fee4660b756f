package io.earnidle.backend.http;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.HttpMediaType;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ErrorHandler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The one error handler of the routing ({@code routing.error(Exception.class, new ProblemHandler())}): every failure
 * becomes an RFC 9457 {@code application/problem+json} body. A {@link Problem} is sent as it is, an HTTP error of the
 * web server keeps its status, a lock the store would not wait for any longer or a database connection the pool had
 * none free of in time ({@link LockContention}) is a 503 with {@code Retry-After} (nothing was changed; the same request
 * may succeed when sent again), anything else is logged and answered
 * with a 500 that says nothing was changed.
 */
public final class ProblemHandler implements ErrorHandler<Exception> {
    public static final String PROBLEM_BASE = "https://earnidle.io/problems/";
    private static final System.Logger LOGGER = System.getLogger(ProblemHandler.class.getName());
    /** Seconds a client waits before sending again a request that lost a lock or connection wait. */
    public static final long LOCK_RETRY_AFTER_SECONDS = 1;
    private static final HttpMediaType PROBLEM_JSON = HttpMediaType.create("application/problem+json; charset=utf-8");

    @Override
    public void handle(ServerRequest req, ServerResponse res, Exception e) {
        send(req, res, problem(req, e));
    }

    private static Problem problem(ServerRequest req, Exception e) {
        if (e instanceof Problem p) {
            return p;
        }
        if (e instanceof HttpException h) {
            return fromStatus(h.status(), h.getMessage());
        }
        if (e instanceof RequestException r) {
            return fromStatus(r.status(), r.getMessage());
        }
        Optional<LockContention.Wait> wait = LockContention.waitOf(e);
        if (wait.isPresent()) {
            LOGGER.log(Level.WARNING, wait.get().name().toLowerCase(Locale.ROOT) + " wait lost on "
                    + req.prologue().method().text() + " " + path(req) + ": " + e.getMessage());
            return Problem.unavailable("busy", wait.get().description() + "; nothing was changed, send it again",
                    LOCK_RETRY_AFTER_SECONDS);
        }
        LOGGER.log(Level.ERROR, "Unhandled error on " + req.prologue().method().text() + " " + path(req), e);
        return new Problem(500, "internal", "Internal server error",
                "the server failed to process the request; nothing was changed");
    }

    private static Problem fromStatus(Status status, String message) {
        String detail = message == null || message.isBlank() ? status.reasonPhrase() : message;
        return new Problem(status.code(), status.code() == 404 ? "not-found" : "http", status.reasonPhrase(), detail);
    }

    /** Sends {@code p} as problem+json (with {@code WWW-Authenticate: Bearer} on a 401, its {@code Retry-After}). */
    public static void send(ServerRequest req, ServerResponse res, Problem p) {
        ObjectNode body = Json.object();
        body.put("type", PROBLEM_BASE + p.type());
        body.put("title", p.title());
        body.put("status", p.status());
        body.put("detail", p.detail());
        body.put("instance", path(req));
        res.status(Status.create(p.status()));
        res.headers().contentType(PROBLEM_JSON);
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        if (p.status() == 401) {
            res.headers().set(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        if (p.retryAfterSeconds() >= 0) {
            res.headers().set(HeaderNames.RETRY_AFTER, String.valueOf(p.retryAfterSeconds()));
        }
        res.send(Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    /** The request's whole path, also inside a service mounted on a prefix. */
    public static String path(ServerRequest req) {
        return req.path().absolute().path();
    }
}
