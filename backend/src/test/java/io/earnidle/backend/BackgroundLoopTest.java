package io.earnidle.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.earnidle.backend.background.BackgroundLoop;
import org.junit.jupiter.api.Test;

/** The one background loop: rounds while leading, failures retried, and each way of stopping a round in flight. */
class BackgroundLoopTest {
    private static final Duration TICK = Duration.ofMillis(5);

    @Test
    void roundsRunOnlyWhileLeadingAndAFailedRoundIsRetried() throws Exception {
        AtomicBoolean leading = new AtomicBoolean(false);
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch afterFailure = new CountDownLatch(1);
        try (BackgroundLoop loop = BackgroundLoop.every(TICK).named("test-loop").whileLeading(leading::get)
                .start(() -> {
                    if (rounds.incrementAndGet() == 1) {
                        throw new IllegalStateException("the first round fails");
                    }
                    afterFailure.countDown();
                })) {
            CountDownLatch checked = new CountDownLatch(3);
            try (BackgroundLoop probe = BackgroundLoop.every(TICK).named("probe").start(checked::countDown)) {
                checked.await(); // the probe ran three rounds: the loop had as many chances and did nothing
            }
            assertEquals(0, rounds.get(), "no round while not leading");
            leading.set(true);
            afterFailure.await(); // the round after the failed one ran
            assertTrue(rounds.get() >= 2);
        }
    }

    @Test
    void interruptStopsARoundInFlightAndFinishRoundLetsItComplete() throws Exception {
        for (BackgroundLoop.Stop stop : BackgroundLoop.Stop.values()) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            AtomicBoolean completed = new AtomicBoolean();
            BackgroundLoop loop = BackgroundLoop.every(TICK).named("stop-" + stop).firstAfter(Duration.ZERO)
                    .stopping(stop, Duration.ofMinutes(1)).start(() -> {
                        started.countDown();
                        try {
                            if (stop == BackgroundLoop.Stop.INTERRUPT) {
                                release.await(); // only an interrupt ends this wait
                            } else {
                                Thread.sleep(TICK.toMillis() * 4); // a round that takes a while
                            }
                            completed.set(true);
                        } catch (InterruptedException e) {
                            interrupted.set(true);
                        }
                    });
            started.await();
            loop.close(); // returns once the thread ended
            if (stop == BackgroundLoop.Stop.INTERRUPT) {
                assertTrue(interrupted.get() && !completed.get(), "the round was interrupted");
            } else {
                assertTrue(completed.get() && !interrupted.get(), "the round finished");
            }
            release.countDown();
        }
    }

    @Test
    void closeIsIdempotentAndNoRoundRunsAfterIt() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        BackgroundLoop loop = BackgroundLoop.every(TICK).named("closing").firstAfter(Duration.ZERO).start(() -> {
            rounds.incrementAndGet();
            first.countDown();
        });
        first.await();
        loop.close();
        int after = rounds.get();
        loop.close();
        CountDownLatch later = new CountDownLatch(3);
        try (BackgroundLoop probe = BackgroundLoop.every(TICK).named("probe").start(later::countDown)) {
            later.await();
        }
        assertEquals(after, rounds.get(), "no round after close");
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("closing")));
    }
}
