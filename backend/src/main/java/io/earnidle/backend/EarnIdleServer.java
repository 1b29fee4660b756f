package io.earnidle.backend;

import java.time.Clock;
import java.util.List;

import io.earnidle.backend.http.SlowClients;
import io.helidon.common.context.Context;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;

/** The Earn Idle web server: API, model files and static web files. */
public final class EarnIdleServer implements AutoCloseable {
    private final Backend backend;
    private final WebServer server;
    private final SlowClients slowClients;

    private EarnIdleServer(Backend backend, WebServer server, SlowClients slowClients) {
        this.backend = backend;
        this.server = server;
        this.slowClients = slowClients;
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
        SlowClients slowClients = SlowClients.create(full.get("earnidle.limits.slow-clients"));
        try {
            Context context = Context.create();
            context.register(slowClients); // Json finds it here to time request bodies
            WebServer server = WebServer.builder()
                    .config(full.get("server"))
                    .serverContext(context)
                    .protocols(List.of(Http1Config.builder()
                            .config(full.get("server.protocols.http_1_1"))
                            .addReceiveListener(slowClients) // times request headers
                            .build()))
                    .routing(backend::routing)
                    .build()
                    .start();
            return new EarnIdleServer(backend, server, slowClients);
        } catch (RuntimeException e) {
            slowClients.close();
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
            slowClients.close();
            backend.close();
        }
    }
}
