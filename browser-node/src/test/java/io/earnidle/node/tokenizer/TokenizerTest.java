package io.earnidle.node.tokenizer;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerTest {
    private static Tokenizer tok;

    @BeforeAll
    static void load() {
        tok = Tokenizer.fromGguf(GgufFile.read(ModelSynthesizer.tinyBytes(1)));
    }

    private static int id(String token) {
        for (int i = 0; i < tok.vocabSize(); i++) {
            if (tok.token(i).equals(token)) {
                return i;
            }
        }
        throw new AssertionError("no token " + token);
    }

    @Test
    void preTokenizerFollowsTheLlama3Regex() {
        assertEquals(List.of("Hello", " world", ",", " this", " is", " a", " test", "."),
                PreTokenizer.split("Hello world, this is a test."));
        assertEquals(List.of("I", "'m", " don", "'t", " WE", "'RE", " it", "'ll", " x", "'ve", " y", "'d", " z", "'s"),
                PreTokenizer.split("I'm don't WE'RE it'll x've y'd z's"));
        assertEquals(List.of("123", "456", "7", " ", "89"), PreTokenizer.split("1234567 89"));
        assertEquals(List.of("a", "  ", " b", "\n\n", "  ", " c", "  "), PreTokenizer.split("a   b\n\n   c  "));
        assertEquals(List.of("x", " \t\n", "y"), PreTokenizer.split("x \t\ny"));
        assertEquals(List.of("!!!\n", "a", " ...", " ?"), PreTokenizer.split("!!!\na ... ?"));
        assertEquals(List.of("日本語", " 😀!"), PreTokenizer.split("日本語 😀!"));
        assertEquals(List.of("'hello"), PreTokenizer.split("'hello"));
    }

    @Test
    void mergesApplyByRank() {
        assertArrayEquals(new int[] {id("Hello"), id("Ġworld")}, tok.encode("Hello world", false));
        assertArrayEquals(new int[] {id("Ġthe")}, tok.encode(" the", false));
        assertArrayEquals(new int[] {id("Ġthis"), id("Ġis"), id("Ġand")}, tok.encode(" this is and", false));
        assertArrayEquals(new int[] {id("t"), id("he")}, tok.encode("the", false));
        assertArrayEquals(new int[] {id("Ġ"), id("Ġ"), id("1"), id("2")}, tok.encode("  12", false));
    }

    @Test
    void roundTripsTextOfAllKinds() {
        String[] samples = {
            "Hello world, this is a test.",
            "   leading and trailing   ",
            "tabs\tand\nnew\r\nlines\n\n\n",
            "numbers 0 12 345 6789 1234567890",
            "contractions: I'm, you're, they've, we'll, he'd, it's, DON'T",
            "日本語のテキスト、中文。",
            "emoji 😀👍🏽 and symbols ©®™ ∑∫",
            "mixed<|eot_id|>special<|start_header_id|>user<|end_header_id|>",
            "",
        };
        for (String s : samples) {
            int[] ids = tok.encode(s, false);
            assertEquals(s, tok.decode(ids), s);
            for (int i : ids) {
                assertTrue(i >= 0 && i < tok.vocabSize());
            }
        }
    }

    @Test
    void specialTokensAreRecognisedAndBosAdded() {
        int bos = tok.bosId();
        assertEquals("<|begin_of_text|>", tok.token(bos));
        assertEquals("<|end_of_text|>", tok.token(tok.eosId()));
        int[] ids = tok.encode("hi<|eot_id|>", true);
        assertEquals(bos, ids[0]);
        assertEquals(tok.eotId(), ids[ids.length - 1]);
        assertTrue(tok.isEndOfGeneration(tok.eotId()));
        assertTrue(tok.isEndOfGeneration(tok.eosId()));
        assertTrue(tok.isControl(bos));
        // an incomplete special is ordinary text
        assertEquals("<|eot_id", tok.decode(tok.encode("<|eot_id", false)));
        assertFalse(contains(tok.encode("<|eot_id", false), tok.eotId()));
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    @Test
    void decodeJoinsSplitUtf8AndReplacesBrokenTail() {
        int[] ids = tok.encode("😀", false); // four byte tokens
        assertEquals(4, ids.length);
        assertEquals("😀", tok.decode(ids));
        assertEquals("\uFFFD", tok.decode(new int[] {ids[0], ids[1]}));
        assertEquals("a\uFFFD", tok.decode(new int[] {id("a"), ids[0]}));
        assertArrayEquals(new byte[] {(byte) 0xF0}, tok.tokenBytes(ids[0]));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {tok.vocabSize()}));
    }

    @Test
    void byteLevelMappingIsABijection() {
        boolean[] seen = new boolean[512];
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.byteToChar(b);
            assertFalse(seen[c]);
            seen[c] = true;
            assertEquals(b, ByteLevel.charToByte(c));
        }
        assertEquals('Ġ', ByteLevel.byteToChar(' '));
        assertEquals('Ċ', ByteLevel.byteToChar('\n'));
        assertEquals(-1, ByteLevel.charToByte('€'));
    }
}
