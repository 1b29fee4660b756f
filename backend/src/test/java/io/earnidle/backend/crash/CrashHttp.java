package io.earnidle.backend.crash;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The crash tests' HTTP: {@link HttpURLConnection} (keep-alive, socket-level timeouts, so a request to an instance
 * that died is an {@link IOException} the caller retries elsewhere or later); a 5xx is a failure of the server.
 */
final class CrashHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        int status = c.getResponseCode();
        InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
        String text = "";
        if (in != null) {
            try (in) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        if (status >= 500) {
            throw new IllegalStateException((req.body() == null ? "GET " : "POST ") + base.resolve(req.path())
                    + ": " + status + " " + text);
        }
        return new Answer(status, text);
    }
}
