package io.earnidle.backend;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.SetUpServer;
import org.junit.jupiter.api.AfterAll;

/**
 * Base of the {@code @ServerTest} classes that run one {@link Backend} on a fresh data directory: the server listens
 * on 127.0.0.1, the subclass's {@code @SetUpRoute} calls {@link #start}, and after the class the backend is closed
 * and its directory deleted. The test classes run one after another (one surefire JVM, no parallel classes).
 */
abstract class BackendServerTest {
    static Backend backend;
    private static Path dataDir;

    @SetUpServer
    static void server(WebServerConfig.Builder server) {
        server.host("127.0.0.1");
    }

    /** Creates the backend with the {@code extra} settings ({@link TestSupport#config}) and routes to it. */
    static void start(HttpRouting.Builder routing, Map<String, String> extra, Clock clock) {
        dataDir = TestSupport.tempDir();
        backend = Backend.create(TestSupport.config(dataDir, extra), clock);
        backend.routing(routing);
    }

    /** The ledger's available balance of {@code account} (balance less what is held). */
    static long available(String account) {
        return backend.database().inTransaction(tx -> backend.ledger().available(tx, account));
    }

    /** The backend's data directory (its models are under {@code models/}). */
    static Path dataDir() {
        return dataDir;
    }

    @AfterAll
    static void closeBackend() throws Exception {
        backend.close();
        TestSupport.deleteTree(dataDir);
    }
}
