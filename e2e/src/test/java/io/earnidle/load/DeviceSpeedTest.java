package io.earnidle.load;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class DeviceSpeedTest {
    private static HonestAnswers.Answer answer(int promptTokens, int generated, double prefillMs, double decodeMs,
                                               boolean ran) {
        return new HonestAnswers.Answer("text", new int[generated], promptTokens, prefillMs, decodeMs, ran);
    }

    @Test
    void anAnswerRunHereReportsItsOwnTime() {
        HonestAnswers.Answer ran = answer(10, 5, 40.0, 100.0, true);
        assertSame(ran, new DeviceSpeed().report(ran));
    }

    @Test
    void anEarlierRunsAnswerReportsTheTimeAtThisDevicesSpeed() {
        DeviceSpeed speed = new DeviceSpeed();
        speed.report(answer(10, 5, 40.0, 100.0, true)); // 4 ms per prompt token, 25 ms per step after the first token
        HonestAnswers.Answer reused = speed.report(answer(3, 8, 1.0, 2.0, false));
        assertEquals(12.0, reused.prefillMs(), 1e-9);
        assertEquals(175.0, reused.decodeMs(), 1e-9);
        assertEquals(3, reused.promptTokens());
        assertEquals(8, reused.tokenIds().length);

        speed.report(answer(4, 2, 4.0, 1.0, true)); // the latest run sets the speed: 1 ms per token, per step
        HonestAnswers.Answer again = speed.report(answer(3, 8, 1.0, 2.0, false));
        assertEquals(3.0, again.prefillMs(), 1e-9);
        assertEquals(7.0, again.decodeMs(), 1e-9);
    }

    @Test
    void aFirstAnswerFromAnEarlierRunKeepsItsTimeAndSetsTheSpeed() {
        DeviceSpeed speed = new DeviceSpeed();
        HonestAnswers.Answer first = answer(2, 3, 4.0, 6.0, false); // 2 ms per prompt token, 3 ms per step
        assertSame(first, speed.report(first));
        HonestAnswers.Answer next = speed.report(answer(5, 11, 1.0, 1.0, false));
        assertEquals(10.0, next.prefillMs(), 1e-9);
        assertEquals(30.0, next.decodeMs(), 1e-9);
    }

    @Test
    void aRunWithoutDecodeStepsKeepsTheDecodeSpeed() {
        DeviceSpeed speed = new DeviceSpeed();
        speed.report(answer(10, 5, 40.0, 100.0, true));
        speed.report(answer(5, 1, 10.0, 0.0, true)); // 2 ms per prompt token now; one token: no decode step
        HonestAnswers.Answer reused = speed.report(answer(1, 3, 9.0, 9.0, false));
        assertEquals(2.0, reused.prefillMs(), 1e-9);
        assertEquals(50.0, reused.decodeMs(), 1e-9);
    }
}
