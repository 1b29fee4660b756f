package io.earnidle.backend;

import java.time.Clock;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.webserver.WebServer;

/** The Earn Idle web server: API, model files and static web files. */
public final class EarnIdleServer implements AutoCloseable {
    private final Backend backend;
    private final WebServer server;

    private EarnIdleServer(Backend backend, WebServer server) {
        this.backend = backend;
        this.server = server;
    }

    /**
     * Starts a server. {@code config} is rooted like {@code application.yaml}; keys it lacks fall back to the
     * classpath {@code application.yaml} (so {@code server.port: 0} plus {@code earnidle.data-dir} is enough).
     * {@code server.port: 0} picks a free port; see {@link #port()}.
     */
    public static EarnIdleServer start(Config config) {
        Config full = Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(config))
                .addSource(ConfigSources.classpath("application.yaml"))
                .build();
        Backend backend = Backend.create(full, Clock.systemUTC());
        try {
            WebServer server = WebServer.builder()
                    .config(full.get("server"))
                    .routing(backend::routing)
                    .build()
                    .start();
            return new EarnIdleServer(backend, server);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    /** Backend internals, for tests in this module. */
    public Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } finally {
            backend.close();
        }
    }
}
