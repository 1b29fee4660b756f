package io.earnidle.e2e;

import io.earnidle.testsupport.LoopbackServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A publisher's page on its own origin (127.0.0.2 by default: a different origin from the backend's 127.0.0.1).
 */
final class HostPage implements AutoCloseable {
    private final LoopbackServer server;

    private HostPage(LoopbackServer server) {
        this.server = server;
    }

    static HostPage serve(String host, String html) throws IOException {
        return new HostPage(LoopbackServer.start(host, 0, LoopbackServer.page(html.getBytes(StandardCharsets.UTF_8))));
    }

    String url() {
        return server.origin() + "/";
    }

    @Override
    public void close() {
        server.close();
    }
}
