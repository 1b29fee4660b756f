package io.earnidle.backend.crash;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The crash tests' HTTP: {@link HttpURLConnection} (keep-alive, socket-level timeouts, so a request to an instance
 * that died is an {@link IOException} the caller retries elsewhere or later); a 5xx is a failure of the server,
 * except the documented 503 with {@code Retry-After} (a lost lock wait: the transaction was rolled back), which a
 * client sends again after the time it names, as this one does ({@link #BUSY_RETRIES} counts them).
 */
final class CrashHttp {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The most times one request is sent again after a 503 with Retry-After before that counts as a failure. */
    private static final int MAX_BUSY_RETRIES = 10;
    /** How many requests were sent again after a 503 with Retry-After, over the test run. */
    static final AtomicLong BUSY_RETRIES = new AtomicLong();

    private CrashHttp() {
    }

    /** One request: GET when {@code body} is null, else a JSON POST. */
    record Req(String path, String bearer, String body, String idempotencyKey) {
        Req withKey(String key) {
            return new Req(path, bearer, body, key);
        }
    }

    record Answer(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    static Req get(String path, String bearer) {
        return new Req(path, bearer, null, null);
    }

    static Req post(String path, String bearer, String body) {
        return new Req(path, bearer, body, null);
    }

    static Answer send(URI base, Req req) throws IOException {
        for (int retries = 0; ; retries++) {
            HttpURLConnection c = open(base, req);
            int status = c.getResponseCode();
            String retryAfter = c.getHeaderField("Retry-After");
            String text = body(c, status);
            if (status == 503 && retryAfter != null && retries < MAX_BUSY_RETRIES) {
                BUSY_RETRIES.incrementAndGet();
                try {
                    Thread.sleep(Long.parseLong(retryAfter.strip()) * 1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting to send again");
                }
                continue;
            }
            if (status >= 500) {
                throw new IllegalStateException((req.body() == null ? "GET " : "POST ") + base.resolve(req.path())
                        + ": " + status + " " + text);
            }
            return new Answer(status, text);
        }
    }

    private static HttpURLConnection open(URI base, Req req) throws IOException {
        HttpURLConnection c = (HttpURLConnection) base.resolve(req.path()).toURL().openConnection();
        c.setConnectTimeout(2_000);
        c.setReadTimeout(30_000);
        if (req.bearer() != null) {
            c.setRequestProperty("Authorization", "Bearer " + req.bearer());
        }
        if (req.idempotencyKey() != null) {
            c.setRequestProperty("Idempotency-Key", req.idempotencyKey());
        }
        if (req.body() != null) {
            byte[] body = req.body().getBytes(StandardCharsets.UTF_8);
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setFixedLengthStreamingMode(body.length);
            c.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
        }
        return c;
    }

    private static String body(HttpURLConnection c, int status) throws IOException {
        InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
        if (in == null) {
            return "";
        }
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
