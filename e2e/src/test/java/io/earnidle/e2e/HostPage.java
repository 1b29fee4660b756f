package io.earnidle.e2e;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A publisher's page on its own origin (127.0.0.2 by default: a different origin from the backend's 127.0.0.1).
 */
final class HostPage implements AutoCloseable {
    private final HttpServer server;

    private HostPage(HttpServer server) {
        this.server = server;
    }

    static HostPage serve(String host, String html) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, 0), 0);
        byte[] body = html.getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return new HostPage(server);
    }

    String url() {
        return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/";
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
