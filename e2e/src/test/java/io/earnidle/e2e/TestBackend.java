package io.earnidle.e2e;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import io.earnidle.backend.EarnIdleServer;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

/**
 * Starts the backend for an e2e test: on 127.0.0.1 at a free port, data in {@code dataDir}, the shipped
 * {@code application.yaml} under the test's own {@code settings} (environment and system properties ignored).
 */
public final class TestBackend {
    private TestBackend() {
    }

    public static EarnIdleServer start(Path dataDir, Map<String, String> settings) {
        Map<String, String> m = new HashMap<>(settings);
        m.put("server.host", "127.0.0.1");
        m.put("server.port", "0");
        m.put("earnidle.data-dir", dataDir.toString());
        return EarnIdleServer.start(Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.create(m), ConfigSources.classpath("application.yaml"))
                .build());
    }
}
