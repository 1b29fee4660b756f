package io.earnidle.backend.db;

import io.helidon.dbclient.DbRow;

/**
 * The reversible form in which model output (a node's result and heartbeat text, a canary's answer) is stored, so that
 * every valid Unicode string survives both stores: PostgreSQL's text types cannot hold U+0000, which an honest model
 * can produce (byte-level tokenizers have a token for byte 0x00). U+0000 is stored as {@link #ESCAPE} followed by
 * {@code '0'}, and {@link #ESCAPE} itself doubled; any other character as it is (docs/protocol.md, "Stored text").
 * {@link #ESCAPE} is the noncharacter U+FFFF, which no text needs; a lone one not followed by {@code '0'} or itself
 * (a row written before this rule) reads back as it is.
 */
public final class StoredText {
    /** The escape character: a Unicode noncharacter, so that escaping almost never lengthens real output. */
    public static final char ESCAPE = '\uFFFF';
    private static final char NUL = '\u0000';
    private static final char NUL_CODE = '0';

    private StoredText() {
    }

    /** The stored form of {@code text}: no U+0000 in it. */
    public static String encode(String text) {
        if (text == null || (text.indexOf(NUL) < 0 && text.indexOf(ESCAPE) < 0)) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == NUL) {
                out.append(ESCAPE).append(NUL_CODE);
            } else if (c == ESCAPE) {
                out.append(ESCAPE).append(ESCAPE);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The text whose stored form is {@code stored}: {@code decode(encode(t))} is {@code t}. */
    public static String decode(String stored) {
        if (stored == null || stored.indexOf(ESCAPE) < 0) {
            return stored;
        }
        StringBuilder out = new StringBuilder(stored.length());
        for (int i = 0; i < stored.length(); i++) {
            char c = stored.charAt(i);
            char next = i + 1 < stored.length() ? stored.charAt(i + 1) : NUL;
            if (c == ESCAPE && next == NUL_CODE) {
                out.append(NUL);
                i++;
            } else if (c == ESCAPE && next == ESCAPE) {
                out.append(ESCAPE);
                i++;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The text stored in {@code column} of {@code row}, decoded. */
    public static String read(DbRow row, String column) {
        return decode(Database.str(row, column));
    }
}
