package io.earnidle.backend.leases;

/**
 * How long a lease runs: {@code overhead + safety × (download + prompt / prefill + tokens / decode)} seconds, within
 * {@code [min-seconds, max-seconds]}. A renewal sizes the rest of the job the same way from the tokens still to
 * decode (and, before the first token, the download and prefill still to do).
 */
public final class LeaseSizer {
    private final LeaseSettings settings;

    public LeaseSizer(LeaseSettings settings) {
        this.settings = settings;
    }

    /** Seconds to download {@code bytes} at {@code kbps} kbit/s. */
    public static double downloadSeconds(long bytes, long kbps) {
        return bytes * 8.0 / (kbps * 1000.0);
    }

    /**
     * The lease for a whole job: {@code downloadBytes} left to fetch at {@code bandwidthKbps}, {@code promptTokens}
     * to prefill and {@code tokens} to decode at {@code speed}.
     */
    public long seconds(NodeCapability.Speed speed, long promptTokens, long tokens, long downloadBytes,
                        long bandwidthKbps) {
        double work = downloadSeconds(downloadBytes, bandwidthKbps)
                + promptTokens / speed.prefillTokensPerS()
                + tokens / speed.decodeTokensPerS();
        return clamp(settings.overheadSeconds() + settings.safetyFactor() * work);
    }

    /** A renewal after progress: {@code tokensLeft} to decode at {@code decodeTokensPerS}. */
    public long renewalSeconds(double decodeTokensPerS, long tokensLeft) {
        return clamp(settings.overheadSeconds() + settings.safetyFactor() * (tokensLeft / decodeTokensPerS));
    }

    private long clamp(double seconds) {
        long s = (long) Math.ceil(seconds);
        return Math.max(settings.minSeconds(), Math.min(settings.maxSeconds(), s));
    }
}
