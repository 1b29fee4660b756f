package io.earnidle.backend.db;

import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The stored form of model output: no U+0000 in it, and every string comes back as it was. */
class StoredTextTest {
    private static final String ESC = String.valueOf(StoredText.ESCAPE);

    @Test
    void nulAndTheEscapeCharacterRoundTrip() {
        for (String text : new String[] {"", "\u0000", "a\u0000b", ESC, ESC + "0", ESC + ESC, "\u0000" + ESC + "0",
                "x" + ESC, ESC + "\u0000" + ESC, "\u0000\u0000", "0" + ESC + "\u00000", "\uD83D\uDE00\u0000"}) {
            String stored = StoredText.encode(text);
            assertFalse(stored.contains("\u0000"), stored);
            assertEquals(text, StoredText.decode(stored));
        }
        assertEquals(ESC + "0", StoredText.encode("\u0000"));
        assertEquals(ESC + ESC, StoredText.encode(ESC));
    }

    @Test
    void randomTextRoundTrips() {
        Random random = new Random(7);
        char[] alphabet = {'\u0000', StoredText.ESCAPE, '0', 'a', '\u0001', '\n', '\u00e9'};
        for (int n = 0; n < 2000; n++) {
            StringBuilder b = new StringBuilder();
            for (int i = random.nextInt(12); i > 0; i--) {
                b.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String text = b.toString();
            String stored = StoredText.encode(text);
            assertFalse(stored.contains("\u0000"), stored);
            assertEquals(text, StoredText.decode(stored));
        }
    }

    @Test
    void textWithoutEitherIsStoredAsItIs() {
        String text = " Hello, world \\0 \u0001";
        assertSame(text, StoredText.encode(text));
        assertSame(text, StoredText.decode(text));
        // a lone escape character from a row written before the rule reads back as it is
        assertEquals("a" + ESC + "b" + ESC, StoredText.decode("a" + ESC + "b" + ESC));
    }
}
