package io.earnidle.node.gguf;

/**
 * A typed GGUF metadata value. {@code value} is a boxed scalar (Byte, Short, Integer, Long, Float, Double, Boolean,
 * String; unsigned types widen to the next signed type, UINT64 stays a Long) or, for {@link #ARRAY}, a
 * {@link GgufArray}.
 */
public record GgufValue(int type, Object value) {
    public static final int UINT8 = 0;
    public static final int INT8 = 1;
    public static final int UINT16 = 2;
    public static final int INT16 = 3;
    public static final int UINT32 = 4;
    public static final int INT32 = 5;
    public static final int FLOAT32 = 6;
    public static final int BOOL = 7;
    public static final int STRING = 8;
    public static final int ARRAY = 9;
    public static final int UINT64 = 10;
    public static final int INT64 = 11;
    public static final int FLOAT64 = 12;

    public static GgufValue string(String s) {
        return new GgufValue(STRING, s);
    }

    public static GgufValue uint32(long v) {
        return new GgufValue(UINT32, v);
    }

    public static GgufValue int32(int v) {
        return new GgufValue(INT32, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(FLOAT32, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(BOOL, v);
    }

    public static GgufValue array(GgufArray a) {
        return new GgufValue(ARRAY, a);
    }

    /** The value as a long if it is an integer type. */
    public long asLong() {
        if (value instanceof Number n && type != FLOAT32 && type != FLOAT64) {
            return n.longValue();
        }
        throw new GgufFormatException("metadata value of type " + typeName(type) + " is not an integer");
    }

    public double asDouble() {
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new GgufFormatException("metadata value of type " + typeName(type) + " is not a number");
    }

    static String typeName(int type) {
        return switch (type) {
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case UINT16 -> "uint16";
            case INT16 -> "int16";
            case UINT32 -> "uint32";
            case INT32 -> "int32";
            case FLOAT32 -> "float32";
            case BOOL -> "bool";
            case STRING -> "string";
            case ARRAY -> "array";
            case UINT64 -> "uint64";
            case INT64 -> "int64";
            case FLOAT64 -> "float64";
            default -> "unknown(" + type + ")";
        };
    }
}
