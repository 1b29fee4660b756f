package io.earnidle.backend.receipts;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The JCS encoder against the examples of RFC 8785 (sections 3.2.2, 3.2.3 and Appendix B). */
class JcsTest {
    /** RFC 8785 Appendix B: IEEE 754 bit patterns and the text each must serialise to. */
    @ParameterizedTest
    @CsvSource({
            "0000000000000000, 0",
            "8000000000000000, 0",
            "0000000000000001, 5e-324",
            "8000000000000001, -5e-324",
            "7fefffffffffffff, 1.7976931348623157e+308",
            "ffefffffffffffff, -1.7976931348623157e+308",
            "4340000000000000, 9007199254740992",
            "c340000000000000, -9007199254740992",
            "4430000000000000, 295147905179352830000",
            "44b52d02c7e14af5, 9.999999999999997e+22",
            "44b52d02c7e14af6, 1e+23",
            "44b52d02c7e14af7, 1.0000000000000001e+23",
            "444b1ae4d6e2ef4e, 999999999999999700000",
            "444b1ae4d6e2ef4f, 999999999999999900000",
            "444b1ae4d6e2ef50, 1e+21",
            "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
            "3eb0c6f7a0b5ed8d, 0.000001",
            "41b3de4355555553, 333333333.3333332",
            "41b3de4355555554, 333333333.33333325",
            "41b3de4355555555, 333333333.3333333",
            "41b3de4355555556, 333333333.3333334",
            "41b3de4355555557, 333333333.33333343",
            "becbf647612f3696, -0.0000033333333333333333",
            "43143ff3c1cb0959, 1424953923781206.2"})
    void numbersOfAppendixB(String bits, String expected) {
        double d = Double.longBitsToDouble(Long.parseUnsignedLong(bits, 16));
        assertEquals(expected, Jcs.number(d));
        // the same number read from JSON text, as a receipt's numbers are
        assertEquals(expected, Jcs.text(Json.parse("[" + (d == 0 ? "0" : Double.toString(d)) + "]"))
                .replaceAll("^\\[|]$", ""));
    }

    @Test
    void nanAndInfinityAreNotJson() {
        assertThrows(IllegalArgumentException.class, () -> Jcs.number(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Jcs.number(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Jcs.number(Double.NEGATIVE_INFINITY));
    }

    /** RFC 8785 section 3.2.2: the sample input and its canonical output, byte for byte. */
    @Test
    void sampleOfSection322() {
        JsonNode input = Json.parse("""
                {
                  "numbers": [333333333.33333329, 1E30, 4.50,
                              2e-3, 0.000000000000000000000000001],
                  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
                  "literals": [null, true, false]
                }""");
        String expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                + "\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assertEquals(expected, Jcs.text(input));
        assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), Jcs.bytes(input));
    }

    /** RFC 8785 section 3.2.3: members sorted by the UTF-16 code units of their names. */
    @Test
    void sortingOfSection323() {
        JsonNode input = Json.parse("""
                {
                  "\\u20ac": "Euro Sign",
                  "\\r": "Carriage Return",
                  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
                  "1": "One",
                  "\\ud83d\\ude00": "Emoji: Grinning Face",
                  "\\u0080": "Control",
                  "\\u00f6": "Latin Small Letter O With Diaeresis"
                }""");
        String expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
                + "\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\","
                + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";
        assertEquals(expected, Jcs.text(input));
    }

    @Test
    void nestedObjectsAndEmptyContainers() {
        assertEquals("{\"a\":{},\"b\":[],\"c\":[{\"x\":1,\"y\":\"\\u001f\"}]}",
                Jcs.text(Json.parse("{ \"c\" : [ {\"y\":\"\\u001F\", \"x\": 1.0} ], \"b\": [ ], \"a\": { } }")));
    }

    /** Fuzz finding (JcsFuzzTest): a lone surrogate became '?' in the bytes, so "\ud800" and "?" signed alike. */
    @Test
    void loneSurrogatesAreRefusedAndPairsKept() {
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("\"\\ud800\"")));
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("{\"\\udc00x\":1}")));
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("[\"a\\ud83d\"]")));
        assertEquals("\"\ud83d\ude00\"", Jcs.text(Json.parse("\"\\ud83d\\ude00\"")));
    }

    /**
     * Fuzz finding (JcsFuzzTest): 1e16 was written 10000000000000000, which was then refused as an integer over 2^53;
     * and an integer past a long was rounded. An integer is now written as the double it equals, kept when it is
     * already the canonical text of its double, and refused otherwise.
     */
    @Test
    void integersAreTheDoublesTheyEqualOrRefused() {
        assertEquals("10000000000000000", Jcs.text(Json.parse("10000000000000000")));
        assertEquals(Jcs.text(Json.parse("1e16")), Jcs.text(Json.parse("10000000000000000")));
        assertEquals("1e+30", Jcs.text(Json.parse("1000000000000000019884624838656")));
        assertEquals("-9007199254740992", Jcs.text(Json.parse("-9007199254740992")));
        // what JCS writes for the double 9007199254740933333.3 is canonical again
        assertEquals("9007199254740934000", Jcs.text(Json.parse("9007199254740933333.333333329")));
        assertEquals("9007199254740934000", Jcs.text(Json.parse("9007199254740934000")));
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("9007199254740993")));
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("100000000000000000001")));
        assertThrows(IllegalArgumentException.class, () -> Jcs.text(Json.parse("1" + "0".repeat(400))));
    }
}
