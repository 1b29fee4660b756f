package io.earnidle.load;

/** Where a load run is: warming up, measuring (requests that start now are counted), or stopping. */
final class Phase {
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean measuring;
    private volatile boolean stopping;
    private volatile long measureStartNanos;
    private volatile long measureEndNanos;

    void startMeasuring() {
        measureStartNanos = System.nanoTime();
        measuring = true;
    }

    void stop() {
        if (measuring) {
            measureEndNanos = System.nanoTime();
        }
        measuring = false;
        stopping = true;
        stopped.countDown();
    }

    /** Waits {@code millis}, or less when the phase stops meanwhile (no thread is interrupted mid-request). */
    void pause(long millis) throws InterruptedException {
        stopped.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    boolean measuring() {
        return measuring;
    }

    boolean stopping() {
        return stopping;
    }

    /** Seconds between {@link #startMeasuring} and {@link #stop}. */
    double measuredSeconds() {
        return (measureEndNanos - measureStartNanos) / 1e9;
    }
}
