package io.earnidle.testsupport.fuzz;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * The fixed-seed short fuzz run of the normal test run. It mutates the seed inputs the way libFuzzer's default
 * mutators do without coverage feedback (bit flips, interesting bytes and integers, inserted, erased, copied and
 * spliced runs, truncation) and hands each mutant to the target; a run is bounded by its number of executions, never
 * by time, so the same seed gives the same inputs on every machine. A failure names the execution and the input (in
 * base64), which reproduces it. The coverage-guided long runs use Jazzer ({@code JAZZER_FUZZ=1}, see
 * docs/security.md) on the same targets.
 */
public final class SeededFuzzRun {

    /** One execution of a fuzz target; it throws (or fails an assertion) on a finding. */
    @FunctionalInterface
    public interface Target {
        void run(byte[] input) throws Exception;
    }

    private static final int[] INTERESTING = {0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
            0x80000000, 16, 32, 64, 100, 1000, 1024, 4096, 65536};

    private static final String TEXT = " \"'{}[]:,.-0123456789eE\\/\n\ta;=<>&%";

    private SeededFuzzRun() {
    }

    /**
     * Runs {@code executions} inputs: each seed once as it is, then mutants of randomly chosen seeds. The system
     * properties {@code earnidle.fuzz.seed} and {@code earnidle.fuzz.executions} replace both for a longer run
     * (docs/security.md "Fuzzing"); the normal test run uses the values the test gives.
     */
    public static void run(long defaultSeed, int defaultExecutions, List<byte[]> seeds, int maxLength, Target target) {
        long seed = Long.getLong("earnidle.fuzz.seed", defaultSeed);
        int executions = Integer.getInteger("earnidle.fuzz.executions", defaultExecutions);
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("a fuzz run needs at least one seed input");
        }
        Random random = new Random(seed);
        List<byte[]> corpus = new ArrayList<>(seeds);
        for (int i = 0; i < executions; i++) {
            byte[] input = i < seeds.size() ? seeds.get(i).clone()
                    : mutate(random, corpus.get(random.nextInt(corpus.size())), corpus, maxLength);
            try {
                target.run(input.clone());
            } catch (Throwable t) {
                throw new AssertionError("fuzz finding at execution " + i + " of seed " + seed + ", input (base64) "
                        + Base64.getEncoder().encodeToString(input) + ": " + t, t);
            }
            if (random.nextInt(64) == 0 && corpus.size() < 256) {
                corpus.add(input); // keeps some mutants so mutations stack, as a corpus grows
            }
        }
    }

    static byte[] mutate(Random random, byte[] base, List<byte[]> corpus, int maxLength) {
        byte[] b = base.clone();
        int rounds = 1 + random.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            b = mutateOnce(random, b, corpus);
        }
        return b.length > maxLength ? java.util.Arrays.copyOf(b, maxLength) : b;
    }

    private static byte[] mutateOnce(Random random, byte[] b, List<byte[]> corpus) {
        int n = b.length;
        switch (random.nextInt(9)) {
            case 0 -> { // flip a bit
                if (n > 0) {
                    b[random.nextInt(n)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> { // random byte
                if (n > 0) {
                    b[random.nextInt(n)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> { // interesting little-endian integer of 1, 2 or 4 bytes
                int width = 1 << random.nextInt(3);
                if (n >= width) {
                    int at = random.nextInt(n - width + 1);
                    int v = INTERESTING[random.nextInt(INTERESTING.length)];
                    for (int k = 0; k < width; k++) {
                        b[at + k] = (byte) (v >>> (8 * k));
                    }
                }
            }
            case 3 -> { // erase a run
                if (n > 0) {
                    int at = random.nextInt(n);
                    int len = 1 + random.nextInt(Math.min(16, n - at));
                    byte[] o = new byte[n - len];
                    System.arraycopy(b, 0, o, 0, at);
                    System.arraycopy(b, at + len, o, at, n - at - len);
                    return o;
                }
            }
            case 4 -> { // insert random bytes
                int at = random.nextInt(n + 1);
                byte[] ins = new byte[1 + random.nextInt(8)];
                random.nextBytes(ins);
                return insert(b, at, ins);
            }
            case 5 -> { // duplicate a run of its own
                if (n > 0) {
                    int from = random.nextInt(n);
                    int len = 1 + random.nextInt(Math.min(32, n - from));
                    return insert(b, random.nextInt(n + 1), java.util.Arrays.copyOfRange(b, from, from + len));
                }
            }
            case 6 -> { // splice with another corpus entry
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int cut = random.nextInt(n + 1);
                int from = random.nextInt(other.length + 1);
                byte[] o = java.util.Arrays.copyOf(b, cut + other.length - from);
                System.arraycopy(other, from, o, cut, other.length - from);
                return o;
            }
            case 7 -> { // truncate
                return java.util.Arrays.copyOf(b, random.nextInt(n + 1));
            }
            default -> { // printable ASCII character (text formats)
                if (n > 0) {
                    b[random.nextInt(n)] = (byte) TEXT.charAt(random.nextInt(TEXT.length()));
                }
            }
        }
        return b;
    }

    private static byte[] insert(byte[] b, int at, byte[] ins) {
        byte[] o = new byte[b.length + ins.length];
        System.arraycopy(b, 0, o, 0, at);
        System.arraycopy(ins, 0, o, at, ins.length);
        System.arraycopy(b, at, o, at + ins.length, b.length - at);
        return o;
    }
}
