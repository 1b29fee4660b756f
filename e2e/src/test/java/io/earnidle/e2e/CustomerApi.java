package io.earnidle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The customer's side of the API for e2e tests: submit a job, read it back, wait until it is completed. */
record CustomerApi(String api, String customerKey) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** POST /api/jobs as the customer; asserts 202 and returns the job. */
    JsonNode postJob(String body) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/jobs"))
                        .header("Authorization", "Bearer " + customerKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    /** GET {@code path} with {@code bearer} (null: none); asserts 200. */
    JsonNode getJson(String path, String bearer) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + path)).GET();
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + " -> " + response.body());
        return JSON.readTree(response.body());
    }

    /** Polls the job every 250 ms until it is completed; fails with its last state after {@code timeout}. */
    JsonNode awaitCompleted(String jobId, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode job;
        do {
            job = getJson("/api/jobs/" + jobId, customerKey);
            if ("completed".equals(job.get("status").asText())) {
                return job;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("job " + jobId + " not completed within " + timeout + "; last state: " + job);
    }
}
