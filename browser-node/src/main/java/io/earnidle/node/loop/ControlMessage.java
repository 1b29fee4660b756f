package io.earnidle.node.loop;

import java.util.Map;

/**
 * A control message from the page (JSON text) applied to the loop: pause, resume, stop, limits, visibility, power,
 * link ({@code wallet_token}: a wallet verified after the session started claims it). Text that is not a JSON object
 * and unknown types are ignored.
 */
final class ControlMessage {
    private ControlMessage() {
    }

    /** Applies {@code json} to {@code loop}; returns why a known message was ignored (bad fields), else null. */
    static String apply(String json, NodeLoop loop) {
        Map<String, Object> m;
        try {
            m = Json.obj(Json.parse(json), "message");
        } catch (RuntimeException e) {
            return null;
        }
        Object type = m.get("type");
        try {
            if ("pause".equals(type)) {
                loop.pause();
            } else if ("resume".equals(type)) {
                loop.resume();
            } else if ("stop".equals(type)) {
                loop.stop();
            } else if ("limits".equals(type)) {
                loop.setLimits(m.get("limits"));
            } else if ("visibility".equals(type)) {
                loop.setVisible(!Boolean.FALSE.equals(m.get("visible")));
            } else if ("power".equals(type)) {
                loop.setOnBattery(Boolean.TRUE.equals(m.get("on_battery")));
            } else if ("link".equals(type)) {
                loop.linkWallet(Json.str(m, "wallet_token"));
            }
            return null;
        } catch (IllegalArgumentException e) {
            return "ignored " + type + " message: " + NodeLoop.message(e);
        }
    }
}
