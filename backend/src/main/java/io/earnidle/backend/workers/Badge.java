package io.earnidle.backend.workers;

import java.util.Locale;

/**
 * A shields-style SVG badge: a grey label on the left, a coloured message on the right. Every text that reaches the
 * SVG is XML-escaped ({@link #escape}), so no field can add markup.
 */
public final class Badge {
    private static final int CHAR_WIDTH = 7; // Verdana 11 px, average advance, as shields.io estimates it
    private static final int PADDING = 10;

    private Badge() {
    }

    /** The SVG of a badge; {@code color} is a CSS colour such as {@code #4c1}. */
    public static String svg(String label, String message, String color, String title) {
        int lw = width(label);
        int mw = width(message);
        int w = lw + mw;
        return """
                <svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">\
                <title>%s</title>\
                <rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/>\
                <g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">\
                <text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>"""
                .formatted(w, escape(label), escape(message), escape(title), lw, lw, mw, escape(color),
                        lw / 2, escape(label), lw + mw / 2, escape(message));
    }

    /** The colour of a tier's badge. */
    public static String color(String tier) {
        return switch (tier.toLowerCase(Locale.ROOT)) {
            case "trusted" -> "#4c1";
            case "verified" -> "#007ec6";
            default -> "#9f9f9f";
        };
    }

    private static int width(String text) {
        return text.codePointCount(0, text.length()) * CHAR_WIDTH + PADDING;
    }

    /** XML text and attribute escaping. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c < 0x20 ? ' ' : c); // control characters are not allowed in XML 1.0
            }
        }
        return out.toString();
    }
}
