package io.earnidle.node.gguf;

/**
 * An immutable list of strings kept as their UTF-8 bytes in one array plus start offsets: a 128k-token vocabulary
 * costs about 1.7 MB here against tens of MB as String objects. Strings are decoded only on {@link #get}.
 */
public final class Utf8Strings {
    private final byte[] bytes;
    /** String i is bytes[starts[i], starts[i + 1]). */
    private final int[] starts;

    /** Takes ownership of both arrays (callers in this package build them and never touch them again). */
    Utf8Strings(byte[] bytes, int[] starts) {
        this.bytes = bytes;
        this.starts = starts;
    }

    /** Encodes the strings (a lone surrogate becomes U+FFFD, as {@link Utf8#encode}). */
    public static Utf8Strings of(String[] strings) {
        int cap = 0;
        for (String s : strings) {
            cap += 3 * s.length();
        }
        byte[] b = new byte[cap];
        int[] starts = new int[strings.length + 1];
        int n = 0;
        for (int i = 0; i < strings.length; i++) {
            String s = strings[i];
            for (int k = 0; k < s.length(); ) {
                int cp = s.codePointAt(k);
                k += Character.charCount(cp);
                n = Utf8.put(cp, b, n);
            }
            starts[i + 1] = n;
        }
        return new Utf8Strings(java.util.Arrays.copyOf(b, n), starts);
    }

    public int size() {
        return starts.length - 1;
    }

    /** The UTF-8 length of string i. */
    public int length(int i) {
        return starts[i + 1] - starts[i];
    }

    public String get(int i) {
        return Utf8.decode(bytes, starts[i], starts[i + 1]);
    }

    public String[] toArray() {
        String[] out = new String[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    /** Copies the bytes of string i to {@code dst} at {@code at}; returns the index after them. */
    public int copy(int i, byte[] dst, int at) {
        int len = length(i);
        System.arraycopy(bytes, starts[i], dst, at, len);
        return at + len;
    }

    /** True if string i is exactly the bytes b[from, to). */
    public boolean equalsBytes(int i, byte[] b, int from, int to) {
        int s = starts[i];
        if (starts[i + 1] - s != to - from) {
            return false;
        }
        for (int k = from; k < to; k++, s++) {
            if (bytes[s] != b[k]) {
                return false;
            }
        }
        return true;
    }

    /** {@link #hash(byte[], int, int)} of string i. */
    public int hash(int i) {
        return hash(bytes, starts[i], starts[i + 1]);
    }

    /** A hash of the bytes b[from, to) for hash tables over these strings (polynomial, as String.hashCode). */
    public static int hash(byte[] b, int from, int to) {
        int h = 0;
        for (int k = from; k < to; k++) {
            h = 31 * h + b[k];
        }
        return h;
    }

    /** Bytes held by this list's arrays (payload only, without object headers). */
    public long payloadBytes() {
        return bytes.length + 4L * starts.length;
    }
}
