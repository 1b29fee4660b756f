package io.earnidle.backend.receipts;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The JSON Canonicalization Scheme, RFC 8785: object members sorted by their names' UTF-16 code units, no
 * whitespace, strings escaped minimally, and every number written as ECMAScript's {@code Number.prototype.toString}
 * writes the IEEE 754 double it denotes. The bytes are UTF-8. A browser gets the same text from
 * {@code JSON.stringify} once object keys are sorted, which is what the verify page does.
 */
public final class Jcs {
    /** Largest integer a double holds exactly (I-JSON, RFC 7493): larger integers are refused, not rounded. */
    private static final long MAX_EXACT = 1L << 53;

    private Jcs() {
    }

    /** The canonical UTF-8 bytes of {@code value}. */
    public static byte[] bytes(JsonNode value) {
        return text(value).getBytes(StandardCharsets.UTF_8);
    }

    /** The canonical text of {@code value}. */
    public static String text(JsonNode value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(JsonNode v, StringBuilder out) {
        switch (v.getNodeType()) {
            case NULL -> out.append("null");
            case BOOLEAN -> out.append(v.booleanValue());
            case STRING -> string(v.textValue(), out);
            case NUMBER -> out.append(number(v));
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < v.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(v.get(i), out);
                }
                out.append(']');
            }
            case OBJECT -> {
                List<Map.Entry<String, JsonNode>> members = new ArrayList<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    members.add(it.next());
                }
                members.sort(Map.Entry.comparingByKey()); // String.compareTo compares UTF-16 code units
                out.append('{');
                for (int i = 0; i < members.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    string(members.get(i).getKey(), out);
                    out.append(':');
                    write(members.get(i).getValue(), out);
                }
                out.append('}');
            }
            default -> throw new IllegalArgumentException("not JSON data: " + v.getNodeType());
        }
    }

    private static String number(JsonNode v) {
        if (v.isIntegralNumber()) {
            if (v.canConvertToLong() && Math.abs(v.longValue()) <= MAX_EXACT) {
                return Long.toString(v.longValue());
            }
            // JCS numbers are doubles: a larger integer is written as the double it equals (10000000000000000 as
            // 1e16 is) or, when it is already the canonical text of its double (what JCS writes for 9.007e18), as
            // it is; any other integer is refused whatever its size, never rounded
            BigInteger n = v.bigIntegerValue();
            double d = n.doubleValue();
            if (Double.isInfinite(d)) {
                throw new IllegalArgumentException("integer " + n + " is not exactly representable as a double");
            }
            String canonical = number(d);
            if (!new BigDecimal(d).toBigInteger().equals(n) && !canonical.equals(n.toString())) {
                throw new IllegalArgumentException("integer " + n + " is not exactly representable as a double");
            }
            return canonical;
        }
        return number(v.doubleValue());
    }

    /** ECMAScript's Number.prototype.toString of {@code d} (RFC 8785 section 3.2.2.3). */
    public static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new IllegalArgumentException("NaN and Infinity are not JSON numbers");
        }
        if (d == 0) {
            return "0"; // also -0
        }
        // Double.toString gives the shortest decimal that reads back as d (JDK 19+); its digits and exponent are
        // laid out again by the ECMAScript rules
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        if (exact.precision() == 2) {
            // Double.toString writes at least two digits (4.9E-324); ECMAScript the shortest, maybe one (5e-324)
            BigDecimal one = exact.round(new MathContext(1, RoundingMode.HALF_EVEN));
            if (one.doubleValue() == Math.abs(d)) {
                exact = one.stripTrailingZeros();
            }
        }
        String digits = exact.unscaledValue().toString();
        int k = digits.length();
        int n = k - exact.scale(); // d = 0.digits x 10^n
        StringBuilder out = new StringBuilder(d < 0 ? "-" : "");
        if (k <= n && n <= 21) {
            out.append(digits).append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            out.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            out.append(digits.charAt(0));
            if (k > 1) {
                out.append('.').append(digits, 1, k);
            }
            out.append('e').append(n - 1 >= 0 ? "+" : "-").append(Math.abs(n - 1));
        }
        return out.toString();
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isSurrogate(c)) {
                        // a lone surrogate has no UTF-8: the bytes would carry '?' and two strings would share them
                        if (!Character.isHighSurrogate(c) || i + 1 == s.length()
                                || !Character.isLowSurrogate(s.charAt(i + 1))) {
                            throw new IllegalArgumentException("string has a lone surrogate at index " + i
                                    + " (not I-JSON, RFC 7493)");
                        }
                        out.append(c).append(s.charAt(++i));
                    } else if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
