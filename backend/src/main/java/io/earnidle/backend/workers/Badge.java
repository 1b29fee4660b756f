package io.earnidle.backend.workers;

import java.util.Locale;
import java.util.regex.Pattern;

import io.earnidle.backend.reputation.Tier;

/**
 * A shields-style SVG badge: a grey label on the left, a coloured message on the right, and a {@code <title>} for
 * the tooltip. Every text that goes into it is XML-escaped (element text and attribute values alike) and the colour
 * must be a hex colour, so nothing a caller passes can add markup to the document.
 */
public final class Badge {
    /** The label of every worker badge. */
    public static final String LABEL = "earn idle";
    private static final Pattern COLOUR = Pattern.compile("#[0-9a-fA-F]{6}");
    private static final String GREY = "#555555";
    /** Rough width of one character of 11 px Verdana, as shields estimates it. */
    private static final double CHAR_WIDTH = 6.5;
    private static final int PADDING = 10;

    private Badge() {
    }

    /** The colour of a tier. */
    public static String colour(Tier tier) {
        return switch (tier) {
            case TRUSTED -> "#44cc11";
            case VERIFIED -> "#007ec6";
            case PROBATION -> "#dfb317";
        };
    }

    /** The message of a worker badge: its tier and score. */
    public static String message(Tier tier, int score) {
        return tier.key() + " " + score;
    }

    /**
     * The SVG document.
     *
     * @param label   left text
     * @param message right text
     * @param colour  right background, {@code #rrggbb} (anything else is drawn grey)
     * @param title   tooltip and accessible name
     */
    public static String svg(String label, String message, String colour, String title) {
        String fill = colour != null && COLOUR.matcher(colour).matches() ? colour.toLowerCase(Locale.ROOT) : GREY;
        int lw = width(label);
        int mw = width(message);
        int w = lw + mw;
        String l = escape(label);
        String m = escape(message);
        String t = escape(title);
        return """
                <svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s">\
                <title>%s</title>\
                <linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>\
                <stop offset="1" stop-opacity=".1"/></linearGradient>\
                <clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>\
                <g clip-path="url(#r)"><rect width="%d" height="20" fill="%s"/>\
                <rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>\
                <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">\
                <text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>\
                <text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text></g></svg>
                """.formatted(w, t, t, w, lw, GREY, lw, mw, fill, w,
                lw / 2, l, lw / 2, l, lw + mw / 2, m, lw + mw / 2, m);
    }

    private static int width(String text) {
        return (int) Math.ceil(text.codePointCount(0, text.length()) * CHAR_WIDTH) + PADDING;
    }

    /** XML escape for element text and double- or single-quoted attribute values. */
    public static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        b.append('\uFFFD'); // not allowed in XML 1.0
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.toString();
    }
}
