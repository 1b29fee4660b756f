package io.earnidle.backend.http;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

import io.helidon.http.Method;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * The routing filter that answers a request which may have written (any method but GET, HEAD and OPTIONS) only once
 * its writes are in the store's file ({@code Database.awaitDurableIfWritten}, the embedded H2 store's group commit;
 * docs/operations.md "Durability"): writes done in a transaction already waited, this covers the single statements a
 * handler runs outside one, and waits only when the request ran such a statement after its last wait. The wait runs on
 * the handler's thread before the response's first byte (Helidon sends an answer through the response's stream filter
 * when one is set, headers included).
 */
public final class DurableResponses {
    private DurableResponses() {
    }

    /**
     * @param forgetWrites  drops the handler thread's mark of writes (a request starts with none)
     * @param awaitIfWritten waits for the store's file when the handler thread wrote since its last wait
     */
    public static void filter(Runnable forgetWrites, Runnable awaitIfWritten, FilterChain chain, RoutingRequest req,
                              RoutingResponse res) {
        Method method = req.prologue().method();
        if (!method.equals(Method.GET) && !method.equals(Method.HEAD) && !method.equals(Method.OPTIONS)) {
            forgetWrites.run();
            res.streamFilter(out -> new AwaitFirst(out, awaitIfWritten));
        }
        chain.proceed();
    }

    /** Waits once, before the first byte, flush or close reaches the connection. */
    private static final class AwaitFirst extends FilterOutputStream {
        private Runnable await;

        AwaitFirst(OutputStream out, Runnable await) {
            super(out);
            this.await = await;
        }

        private void ready() {
            if (await != null) {
                Runnable a = await;
                await = null;
                a.run();
            }
        }

        @Override
        public void write(int b) throws IOException {
            ready();
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ready();
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            ready();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            ready();
            out.close();
        }
    }
}
