package io.earnidle.load;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.earnidle.backend.EarnIdleServer;
import io.earnidle.e2e.TestBackend;
import io.earnidle.testsupport.PostgresCluster;

/**
 * What a load scenario runs against: one backend on embedded H2 ({@code h2}), or two backend instances in cluster
 * mode on one PostgreSQL database ({@code postgres2}; docs/operations.md "Cluster mode"), a throwaway server of
 * {@link PostgresCluster}. Every instance is started in this JVM from the shipped application.yaml under the
 * scenario's settings; the simulated nodes and customers are spread over the instances' base URLs.
 */
enum LoadStore {
    H2("h2", 1),
    POSTGRES2("postgres2", 2);

    /** The backends of one scenario; closing stops them all. */
    record Backends(List<EarnIdleServer> servers) implements AutoCloseable {
        List<String> baseUrls() {
            return servers.stream().map(s -> "http://127.0.0.1:" + s.port()).toList();
        }

        @Override
        public void close() {
            for (EarnIdleServer s : servers.reversed()) {
                s.close();
            }
        }
    }

    private final String id;
    private final int instances;

    LoadStore(String id, int instances) {
        this.id = id;
        this.instances = instances;
    }

    /** The name in the command line and the results file. */
    String id() {
        return id;
    }

    int instances() {
        return instances;
    }

    static LoadStore of(String id) {
        for (LoadStore s : values()) {
            if (s.id.equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown store " + id + " (h2 or postgres2)");
    }

    /**
     * Starts this store's instances with their data in {@code dataDir} (shared by a cluster's instances, as the
     * model files and receipt keys of a real cluster are) under {@code settings}.
     */
    Backends start(Path dataDir, Map<String, String> settings) {
        if (this == H2) {
            return new Backends(List.of(TestBackend.start(dataDir, settings)));
        }
        String url = PostgresCluster.shared().databaseFor(dataDir);
        List<EarnIdleServer> servers = new ArrayList<>();
        try {
            for (int i = 0; i < instances; i++) {
                Map<String, String> m = new HashMap<>(settings);
                m.put("db.connection.url", url);
                m.put("db.connection.username", PostgresCluster.USER);
                m.put("earnidle.cluster.enabled", "true");
                m.put("earnidle.cluster.instance-id", "load-" + (char) ('a' + i));
                servers.add(TestBackend.start(dataDir, m));
            }
            return new Backends(List.copyOf(servers));
        } catch (RuntimeException e) {
            new Backends(servers).close();
            throw e;
        }
    }
}
