package io.earnidle.node.browser;

import io.earnidle.node.loop.NodeLoop;
import org.teavm.jso.JSExport;

/** TeaVM entry point of the browser node; {@code web/node/node-worker.js} drives it through the exports. */
public final class NodeMain {
    private static NodeLoop loop;

    private NodeMain() {
    }

    public static void main(String[] args) {
        // nothing to do: the worker calls startNode when the page posts {type:"start"}
    }

    /** Starts the node loop from the worker's start message (JSON text); a second call is ignored. */
    @JSExport
    public static void startNode(String startMessageJson) {
        if (loop != null) {
            return;
        }
        try {
            loop = NodeLoop.fromStartMessage(new BrowserHost(), startMessageJson);
        } catch (RuntimeException e) {
            BrowserHost.postMessageJson("{\"type\":\"status\",\"state\":\"error\",\"session_id\":null,"
                    + "\"jobs_completed\":0,\"balance_micro_usdc\":0,\"pending_micro_usdc\":0,\"last_payout_micro_usdc\":0,"
                    + "\"engine\":\"" + BrowserHost.ENGINE + "\",\"job_id\":null,\"message\":"
                    + io.earnidle.node.loop.Json.write("bad start message: " + e.getMessage()) + "}");
            return;
        }
        loop.start();
    }

    /**
     * Handles a control message from the page, as JSON text: {@code pause}, {@code resume}, {@code stop},
     * {@code limits}, {@code visibility}, {@code power} (see the worker contract).
     */
    @JSExport
    public static void controlNode(String messageJson) {
        if (loop == null) {
            return;
        }
        loop.control(messageJson);
    }

    /** {@code earnidle infer --engine wasm|webgpu}: runs one request in this worker (see InferEntry). */
    @JSExport
    public static void runInference(String requestJson) {
        io.earnidle.node.browser.engine.InferEntry.run(requestJson);
    }
}
