package io.earnidle.node.loop;

/** What the node is doing, as the status message names it ({@link #wire()}: the {@code state} field's value). */
public enum NodeState {
    REGISTERING("registering"),
    IDLE("idle"),
    DOWNLOADING("downloading"),
    RUNNING("running"),
    SUBMITTING("submitting"),
    PAUSED("paused"),
    STOPPED("stopped"),
    ERROR("error");

    private final String wire;

    NodeState(String wire) {
        this.wire = wire;
    }

    /** The state's name in the status JSON. */
    public String wire() {
        return wire;
    }
}
