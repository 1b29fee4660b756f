package io.earnidle.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Slow clients (slowloris) against a real server ({@link EarnIdleServer}, raw sockets): request lines, headers and
 * bodies trickled a byte at a time, and idle keep-alive connections, are closed by the server on its configured
 * deadlines while a normal client is served; the connection cap holds extra connections until one closes
 * (docs/security.md "Slow clients").
 */
class SlowClientTest {
    /** How often a slow client sends its next byte: far inside the read timeout, so no read ever times out. */
    private static final long TRICKLE_MS = 50;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration HEADERS_TIMEOUT = Duration.ofMillis(400);
    private static final Duration BODY_TIMEOUT = Duration.ofMillis(400);
    private static final Duration IDLE_TIMEOUT = Duration.ofMillis(800);
    private static final Duration IDLE_PERIOD = Duration.ofMillis(100);
    /** How long a slow connection may stay open at most: its longest deadline plus a check period, ten times over. */
    private static final int CLOSED_WITHIN_MS = (int) (IDLE_TIMEOUT.plus(IDLE_PERIOD).toMillis() * 10);

    private static Map<String, String> settings(int maxConnections, Duration idleTimeout) {
        Map<String, String> m = new HashMap<>();
        m.put("server.port", "0");
        // synthetic results, paid unverified and at once (as ProtocolAttackTest)
        m.put("earnidle.ledger.verification-window-seconds", "0");
        m.put("earnidle.trust.sample-rate", "0");
        m.put("server.max-tcp-connections", Integer.toString(maxConnections));
        m.put("server.idle-connection-timeout", idleTimeout.toString());
        m.put("server.idle-connection-period", IDLE_PERIOD.toString());
        m.put("server.connection-options.read-timeout", READ_TIMEOUT.toString());
        m.put("earnidle.limits.slow-clients.headers-timeout-ms", Long.toString(HEADERS_TIMEOUT.toMillis()));
        m.put("earnidle.limits.slow-clients.body-timeout-ms", Long.toString(BODY_TIMEOUT.toMillis()));
        return m;
    }

    @Test
    void slowClientsAreClosedOnTheirDeadlinesWhileOthersAreServed() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer server = EarnIdleServer.start(TestSupport.config(dir, settings(10_000, IDLE_TIMEOUT)))) {
            int port = server.port();
            long jobs = TestSupport.count(server.backend().database(), "SELECT COUNT(*) AS n FROM jobs");
            String body = "{\"model\":\"synthetic-tiny-f32\",\"prompt\":\"slow\",\"max_tokens\":4}";
            Map<String, List<Socket>> slow = new HashMap<>();
            List<Thread> tricklers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                // the request line a byte at a time (never finished): left to the idle-connection timeout
                slow.computeIfAbsent("request line", k -> new ArrayList<>())
                        .add(trickle(port, "", "GET /api/rates?" + "a".repeat(4000), tricklers));
                // the headers a byte at a time after a whole request line
                slow.computeIfAbsent("headers", k -> new ArrayList<>()).add(trickle(port,
                        "GET /api/rates HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: " + "a".repeat(8000), tricklers));
                // a job's body a byte at a time after whole headers
                slow.computeIfAbsent("body", k -> new ArrayList<>()).add(trickle(port,
                        "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                                + TestSupport.CUSTOMER_KEY + "\r\nContent-Type: application/json\r\nContent-Length: "
                                + body.length() + "\r\n\r\n", body, tricklers));
                // a keep-alive connection that sends one request and then nothing
                Socket idle = new Socket("127.0.0.1", port);
                idle.getOutputStream().write("GET /api/rates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                idle.setSoTimeout(CLOSED_WITHIN_MS);
                assertTrue(readHead(idle.getInputStream()).startsWith("HTTP/1.1 200"));
                slow.computeIfAbsent("idle keep-alive", k -> new ArrayList<>()).add(idle);
            }
            try {
                // a normal client is served end to end meanwhile
                TestSupport.Api api = new TestSupport.Api(TestSupport.ownClient("http://127.0.0.1:" + port));
                String token = api.register();
                String jobId = api.submit("served while others stall", 4).path("id").asText();
                api.complete(token, jobId);
                assertEquals("completed", api.get("/api/jobs/" + jobId, TestSupport.CUSTOMER_KEY).json()
                        .path("status").asText());

                // every slow connection is closed by the server, long before any read could time out
                for (Map.Entry<String, List<Socket>> kind : slow.entrySet()) {
                    for (Socket s : kind.getValue()) {
                        assertTrue(closedByServer(s), kind.getKey() + ": the server closed the connection");
                    }
                }
                System.out.println("slow clients closed by the server: " + slow.entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue().size()).toList());
            } finally {
                tricklers.forEach(Thread::interrupt);
                for (List<Socket> sockets : slow.values()) {
                    for (Socket s : sockets) {
                        s.close();
                    }
                }
            }
            // no trickled body created a job: only the normal client's job exists
            assertEquals(jobs + 1, TestSupport.count(server.backend().database(), "SELECT COUNT(*) AS n FROM jobs"));
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void theConnectionCapHoldsAnotherClientUntilAConnectionCloses() throws Exception {
        Path dir = TestSupport.tempDir();
        int cap = 4;
        // idle connections stay open for the whole test: only the cap decides who is served
        try (EarnIdleServer server = EarnIdleServer.start(TestSupport.config(dir,
                settings(cap, Duration.ofMinutes(5))))) {
            int port = server.port();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < cap; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    s.getOutputStream().write("GET /api/rates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(CLOSED_WITHIN_MS);
                    assertTrue(readHead(s.getInputStream()).startsWith("HTTP/1.1 200"));
                    held.add(s);
                }
                try (Socket another = new Socket("127.0.0.1", port)) {
                    another.getOutputStream().write("GET /api/rates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    // not answered while the cap is full (a correct server never answers here, however long)
                    another.setSoTimeout((int) HEADERS_TIMEOUT.toMillis());
                    assertThrows(SocketTimeoutException.class, () -> another.getInputStream().read());
                    // one held connection closes: the waiting one is accepted and served
                    held.remove(0).close();
                    another.setSoTimeout(CLOSED_WITHIN_MS);
                    assertTrue(readHead(another.getInputStream()).startsWith("HTTP/1.1 200"));
                }
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    /** A connection that sends {@code head} at once, then {@code rest} a byte every {@link #TRICKLE_MS}. */
    private static Socket trickle(int port, String head, String rest, List<Thread> tricklers) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(CLOSED_WITHIN_MS);
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        tricklers.add(Thread.ofVirtual().start(() -> {
            try {
                for (byte b : rest.getBytes(StandardCharsets.US_ASCII)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(TRICKLE_MS);
                }
            } catch (IOException | InterruptedException e) {
                // closed by the server (or the test ended)
            }
        }));
        return s;
    }

    /** True once the server closed {@code s} (end of stream or reset); false if it is still open at the timeout. */
    private static boolean closedByServer(Socket s) {
        try {
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // whatever the server answered before it closed (nothing, for a slow request)
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }

    /** The response's status line and headers (reads up to the blank line). */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return sb.toString();
    }
}
