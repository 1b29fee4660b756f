package io.earnidle.backend.http;

/**
 * An RFC 9457 problem that ends the request: thrown anywhere in a handler, written by {@link ProblemHandler}.
 */
public final class Problem extends RuntimeException {
    private final int status;
    private final String type;
    private final String title;
    private final long retryAfterSeconds;

    public Problem(int status, String type, String title, String detail) {
        this(status, type, title, detail, -1);
    }

    private Problem(int status, String type, String title, String detail, long retryAfterSeconds) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() { return status; }
    public String type() { return type; }
    public String title() { return title; }
    public String detail() { return getMessage(); }
    /** The {@code Retry-After} seconds {@link ProblemHandler} sends with this problem, or -1 for none. */
    public long retryAfterSeconds() { return retryAfterSeconds; }

    public static Problem malformed(String detail) { return new Problem(400, "malformed-json", "Malformed request body", detail); }
    public static Problem validation(String detail) { return new Problem(400, "validation", "Invalid request", detail); }
    public static Problem unauthorized(String detail) { return new Problem(401, "unauthorized", "Unauthorized", detail); }
    public static Problem insufficientFunds(String detail) {
        return new Problem(402, "insufficient-funds", "Insufficient funds", detail);
    }
    public static Problem notFound(String detail) { return new Problem(404, "not-found", "Not found", detail); }
    public static Problem conflict(String detail) { return new Problem(409, "conflict", "Conflict", detail); }
    public static Problem tooLarge(String detail) { return new Problem(413, "too-large", "Request body too large", detail); }
    public static Problem unsupportedMediaType(String detail) {
        return new Problem(415, "unsupported-media-type", "Unsupported media type", detail);
    }
    /** 429 with a {@code Retry-After} header of {@code retryAfterSeconds}. */
    public static Problem rateLimited(String type, String title, String detail, long retryAfterSeconds) {
        return new Problem(429, type, title, detail, retryAfterSeconds);
    }
    /** 503 with a {@code Retry-After} header: the server is at a bound it keeps on purpose (not a fault). */
    public static Problem unavailable(String type, String detail, long retryAfterSeconds) {
        return new Problem(503, type, "Service busy", detail, retryAfterSeconds);
    }
    public static Problem unknownModel(String detail) { return new Problem(422, "unknown-model", "Unknown model", detail); }
}
