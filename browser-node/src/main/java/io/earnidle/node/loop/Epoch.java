package io.earnidle.node.loop;

/**
 * The loop's cancellation counter: work in flight remembers the epoch it started in, and a callback that finds a
 * newer one does nothing (the work was cancelled meanwhile).
 */
final class Epoch {
    private int value;

    int current() {
        return value;
    }

    boolean is(int epoch) {
        return epoch == value;
    }

    /** Cancels everything started so far. */
    void bump() {
        value++;
    }
}
