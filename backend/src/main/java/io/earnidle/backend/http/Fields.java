package io.earnidle.backend.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Typed field access on a JSON object; every wrong field becomes a 400 validation problem that names it. */
public final class Fields {
    private Fields() {
    }

    /** The field, or 400 "is required" when it is absent or null. */
    private static JsonNode required(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            throw Problem.validation(name + " is required");
        }
        return n;
    }

    public static boolean present(ObjectNode o, String name) {
        JsonNode n = o.get(name);
        return n != null && !n.isNull();
    }

    public static String requiredString(ObjectNode o, String name, int maxChars) {
        JsonNode n = required(o, name);
        if (!n.isTextual()) {
            throw Problem.validation(name + " must be a string");
        }
        String s = n.textValue();
        if (s.isEmpty()) {
            throw Problem.validation(name + " must not be empty");
        }
        if (s.length() > maxChars) {
            throw Problem.validation(name + " must be at most " + maxChars + " characters, got " + s.length());
        }
        if (s.indexOf('\u0000') >= 0) { // PostgreSQL text cannot hold it: one answer on every store
            throw Problem.validation(name + " must not contain the character U+0000");
        }
        return s;
    }

    public static long requiredLong(ObjectNode o, String name, long min, long max) {
        return asLong(required(o, name), name, min, max);
    }

    public static long optionalLong(ObjectNode o, String name, long min, long max, long dflt) {
        return present(o, name) ? asLong(o.get(name), name, min, max) : dflt;
    }

    public static long asLong(JsonNode n, String name, long min, long max) {
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw Problem.validation(name + " must be an integer");
        }
        long v = n.longValue();
        if (v < min || v > max) {
            throw Problem.validation(name + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    public static double requiredDouble(ObjectNode o, String name, double min, double max) {
        return asDouble(required(o, name), name, min, max);
    }

    public static double optionalDouble(ObjectNode o, String name, double min, double max, double dflt) {
        return present(o, name) ? asDouble(o.get(name), name, min, max) : dflt;
    }

    private static double asDouble(JsonNode n, String name, double min, double max) {
        if (!n.isNumber()) {
            throw Problem.validation(name + " must be a number");
        }
        double v = n.doubleValue();
        if (!Double.isFinite(v) || v < min || v > max) {
            throw Problem.validation(name + " must be a finite number between " + min + " and " + max + ", got " + n);
        }
        return v;
    }

    public static boolean optionalBoolean(ObjectNode o, String name, boolean dflt) {
        if (!present(o, name)) {
            return dflt;
        }
        JsonNode n = o.get(name);
        if (!n.isBoolean()) {
            throw Problem.validation(name + " must be true or false");
        }
        return n.booleanValue();
    }

    public static ObjectNode requiredObject(ObjectNode o, String name) {
        return asObject(required(o, name), name);
    }

    public static ObjectNode optionalObject(ObjectNode o, String name) {
        return present(o, name) ? asObject(o.get(name), name) : Json.object();
    }

    private static ObjectNode asObject(JsonNode n, String name) {
        if (!n.isObject()) {
            throw Problem.validation(name + " must be an object");
        }
        return (ObjectNode) n;
    }

    /** An array of non-negative ints below {@code bound} with 1..maxLen elements. */
    public static int[] intArray(ObjectNode o, String name, int maxLen, long bound) {
        JsonNode n = required(o, name);
        if (!n.isArray()) {
            throw Problem.validation(name + " must be an array of integers");
        }
        if (n.isEmpty() || n.size() > maxLen) {
            throw Problem.validation(name + " must have between 1 and " + maxLen + " elements, got " + n.size());
        }
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToLong() || e.longValue() < 0 || e.longValue() >= bound) {
                throw Problem.validation(name + "[" + i + "] must be an integer id in [0, " + bound + "), got " + e);
            }
            out[i] = (int) e.longValue();
        }
        return out;
    }
}
