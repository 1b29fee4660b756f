package io.earnidle.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer on a loopback address at an ephemeral port, one handler for every path: the tests' stand-in
 * backends and static pages. {@link #close} stops it (and its thread pool, when it has one).
 */
public final class LoopbackServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService pool;

    private LoopbackServer(HttpServer server, ExecutorService pool) {
        this.server = server;
        this.pool = pool;
    }

    /** On 127.0.0.1, requests handled one at a time on the server's own thread. */
    public static LoopbackServer start(HttpHandler handler) throws IOException {
        return start("127.0.0.1", 0, handler);
    }

    /**
     * On {@code host} (a loopback address such as 127.0.0.2, for a second origin); {@code threads} > 0 handles that
     * many requests at once (a browser that streams a large file while it polls), 0 one at a time.
     */
    public static LoopbackServer start(String host, int threads, HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, 0), 0);
        ExecutorService pool = threads > 0 ? Executors.newFixedThreadPool(threads) : null;
        server.setExecutor(pool);
        server.createContext("/", handler);
        server.start();
        return new LoopbackServer(server, pool);
    }

    /** A handler that answers every request with the same HTML page. */
    public static HttpHandler page(byte[] html) {
        return ex -> {
            try (ex) {
                send(ex, 200, "text/html; charset=utf-8", html, Map.of());
            }
        };
    }

    /**
     * A handler for GETs of the class path's {@code root} folder ({@code /a/b.js} is {@code root/a/b.js}): the
     * Content-Type by extension from {@code types} (else application/octet-stream), {@code Cache-Control: no-store}
     * and {@code headers}; 404 for anything else (other methods, folders, "..", missing files).
     */
    public static HttpHandler classpathFiles(String root, Map<String, String> types, Map<String, String> headers) {
        return ex -> {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                if (!"GET".equals(ex.getRequestMethod()) || path.contains("..") || path.endsWith("/")) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                ClassLoader loader = LoopbackServer.class.getClassLoader();
                try (InputStream in = loader.getResourceAsStream(root + path)) {
                    if (in == null) {
                        ex.sendResponseHeaders(404, -1);
                        return;
                    }
                    String ext = path.substring(path.lastIndexOf('.') + 1);
                    send(ex, 200, types.getOrDefault(ext, "application/octet-stream"), in.readAllBytes(), headers);
                }
            }
        };
    }

    /** Sends {@code body} with its Content-Type, {@code Cache-Control: no-store} and {@code headers}. */
    public static void send(HttpExchange ex, int status, String type, byte[] body, Map<String, String> headers)
            throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        headers.forEach(ex.getResponseHeaders()::set);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://HOST:PORT}, no trailing slash. */
    public String origin() {
        return "http://" + server.getAddress().getHostString() + ":" + port();
    }

    @Override
    public void close() {
        server.stop(0);
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
