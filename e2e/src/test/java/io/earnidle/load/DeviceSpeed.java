package io.earnidle.load;

/**
 * A simulated node's speed, as a real device has one. An answer the node ran reports the time the run took and sets
 * the speed (ms per prompt token, ms per decode step: the tokens after the first, as the backend counts them in
 * TimingPlausibility). An answer an earlier run made ({@link HonestAnswers}) reports the time it takes at that speed;
 * as the node's first answer, it reports its own time and sets the speed. A node's first job is its capability
 * benchmark, so the backend's measure of its speed and the timings it reports agree. (Reporting the earlier run's own
 * time made many answers look more than 10 times faster than their node's benchmark, which ran while the machine was
 * loaded: the backend held them and benchmarked the node again, over and over: docs/trust.md,
 * {@code plausibility.capability-factor}.)
 */
final class DeviceSpeed {
    /** From the last answer run here (or the first answer); NaN before one. */
    private double prefillMsPerToken = Double.NaN;
    private double decodeMsPerStep = Double.NaN;

    /** {@code a} as this device reports it. */
    HonestAnswers.Answer report(HonestAnswers.Answer a) {
        boolean first = Double.isNaN(prefillMsPerToken) || Double.isNaN(decodeMsPerStep);
        if (!a.ran() && !first) {
            return a.at(prefillMsPerToken, decodeMsPerStep);
        }
        if (a.promptTokens() > 0) {
            prefillMsPerToken = a.prefillMs() / a.promptTokens();
        }
        if (a.tokenIds().length > 1) {
            decodeMsPerStep = a.decodeMs() / (a.tokenIds().length - 1);
        }
        return a;
    }
}
