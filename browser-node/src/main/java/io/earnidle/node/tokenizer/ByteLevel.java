package io.earnidle.node.tokenizer;

/** GPT-2's reversible byte ↔ unicode-character mapping used by byte-level BPE vocabularies. */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        for (int i = 0; i < CHAR_TO_BYTE.length; i++) {
            CHAR_TO_BYTE[i] = -1;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    public static char byteToChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte for a mapped character, or -1 if the character is not in the mapping. */
    public static int charToByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    public static String encodeBytes(byte[] bytes, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            sb.append(BYTE_TO_CHAR[bytes[i] & 0xFF]);
        }
        return sb.toString();
    }
}
