package io.earnidle.node.loop;

/** SHA-256 in plain Java (java.security is not available under TeaVM), one-shot or incremental. */
public final class Sha256 {
    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    };

    private final int[] h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19};
    private final int[] w = new int[64];
    private final byte[] block = new byte[64];
    private int blockLen;
    private long length;
    private boolean finished;

    /** An incremental digest: {@link #update} any number of times, then {@link #hexDigest()} once. */
    public Sha256() {
    }

    public static String hex(byte[] data) {
        Sha256 d = new Sha256();
        d.update(data, 0, data.length);
        return d.hexDigest();
    }

    /** Bytes hashed so far. */
    public long length() {
        return length;
    }

    public void update(byte[] data, int off, int len) {
        if (finished) {
            throw new IllegalStateException("digest already finished");
        }
        if (off < 0 || len < 0 || off + len > data.length) {
            throw new IndexOutOfBoundsException("range " + off + "+" + len + " of " + data.length);
        }
        length += len;
        int end = off + len;
        if (blockLen > 0) {
            int take = Math.min(64 - blockLen, len);
            System.arraycopy(data, off, block, blockLen, take);
            blockLen += take;
            off += take;
            if (blockLen < 64) {
                return;
            }
            compress(block, 0);
            blockLen = 0;
        }
        while (end - off >= 64) {
            compress(data, off);
            off += 64;
        }
        System.arraycopy(data, off, block, 0, end - off);
        blockLen = end - off;
    }

    public String hexDigest() {
        if (finished) {
            throw new IllegalStateException("digest already finished");
        }
        long bitLen = length * 8;
        block[blockLen++] = (byte) 0x80;
        if (blockLen > 56) {
            java.util.Arrays.fill(block, blockLen, 64, (byte) 0);
            compress(block, 0);
            blockLen = 0;
        }
        java.util.Arrays.fill(block, blockLen, 56, (byte) 0);
        for (int k = 0; k < 8; k++) {
            block[63 - k] = (byte) (bitLen >>> (8 * k));
        }
        compress(block, 0);
        finished = true;
        StringBuilder sb = new StringBuilder(64);
        for (int v : h) {
            for (int k = 28; k >= 0; k -= 4) {
                sb.append(Character.forDigit((v >>> k) & 0xF, 16));
            }
        }
        return sb.toString();
    }

    private void compress(byte[] src, int off) {
        for (int t = 0; t < 16; t++) {
            int p = off + 4 * t;
            w[t] = (src[p] & 0xFF) << 24 | (src[p + 1] & 0xFF) << 16 | (src[p + 2] & 0xFF) << 8 | (src[p + 3] & 0xFF);
        }
        for (int t = 16; t < 64; t++) {
            int s0 = Integer.rotateRight(w[t - 15], 7) ^ Integer.rotateRight(w[t - 15], 18) ^ (w[t - 15] >>> 3);
            int s1 = Integer.rotateRight(w[t - 2], 17) ^ Integer.rotateRight(w[t - 2], 19) ^ (w[t - 2] >>> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        int a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int t = 0; t < 64; t++) {
            int s1 = Integer.rotateRight(e, 6) ^ Integer.rotateRight(e, 11) ^ Integer.rotateRight(e, 25);
            int ch = (e & f) ^ (~e & g);
            int t1 = hh + s1 + ch + K[t] + w[t];
            int s0 = Integer.rotateRight(a, 2) ^ Integer.rotateRight(a, 13) ^ Integer.rotateRight(a, 22);
            int maj = (a & bb) ^ (a & c) ^ (bb & c);
            int t2 = s0 + maj;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = bb;
            bb = a;
            a = t1 + t2;
        }
        h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
}
