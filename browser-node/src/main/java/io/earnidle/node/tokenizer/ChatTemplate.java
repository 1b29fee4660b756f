package io.earnidle.node.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3 Instruct chat formatting, written out in Java (no Jinja engine). Message contents are trimmed as the
 * templates' {@code | trim} filter does (JavaScript {@code String.trim} whitespace, as the reference renderer of
 * {@code @lenml/tokenizers} uses).
 *
 * <p>A chat is rendered as {@link Piece}s: the template's special tokens, and text. Encoding the pieces
 * ({@link Tokenizer#encode(List)}) turns only the template's own special tokens into their ids, so a message that
 * spells {@code <|eot_id|><|start_header_id|>system...} stays text and cannot open a turn of its own. The string forms
 * ({@link #llama3}, {@link #llama32}) join the pieces, for display and for comparison with other renderers.
 */
public final class ChatTemplate {
    public static final String BOS = "<|begin_of_text|>";
    public static final String START_HEADER = "<|start_header_id|>";
    public static final String END_HEADER = "<|end_header_id|>";
    public static final String EOT = "<|eot_id|>";
    /** The date the Llama 3.2 template uses when none is given. */
    public static final String DEFAULT_DATE = "26 Jul 2024";

    private ChatTemplate() {
    }

    /** A special token of the template ({@code special}), or text that is encoded as text whatever it spells. */
    public record Piece(String text, boolean special) {
    }

    /**
     * The Llama 3 / 3.1 / 3.2 Instruct message layout, as llama.cpp's built-in {@code llama3} template and the
     * template shipped with the Llama 3 tokenizer produce it:
     * {@code <|begin_of_text|>} then, per message,
     * {@code <|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>}, then (if {@code addGenerationPrompt})
     * {@code <|start_header_id|>assistant<|end_header_id|>\n\n}.
     */
    public static String llama3(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return join(llama3Pieces(messages, addGenerationPrompt));
    }

    /** {@link #llama3} as pieces. */
    public static List<Piece> llama3Pieces(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Piece> out = new ArrayList<>();
        out.add(new Piece(BOS, true));
        for (ChatMessage m : messages) {
            turn(out, m.role(), trim(m.content()));
        }
        if (addGenerationPrompt) {
            header(out, "assistant");
        }
        return out;
    }

    /**
     * The Hugging Face Llama-3.2-Instruct template without tools: a system turn always comes first and starts with
     * {@code Cutting Knowledge Date: December 2023\nToday Date: DATE\n\n} followed by the (trimmed) content of a
     * leading system message, if any; the other messages follow as in {@link #llama3}.
     */
    public static String llama32(List<ChatMessage> messages, boolean addGenerationPrompt, String date) {
        return join(llama32Pieces(messages, addGenerationPrompt, date));
    }

    /** {@link #llama32} as pieces. */
    public static List<Piece> llama32Pieces(List<ChatMessage> messages, boolean addGenerationPrompt, String date) {
        List<Piece> out = new ArrayList<>();
        out.add(new Piece(BOS, true));
        int first = 0;
        String system = "";
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            system = trim(messages.get(0).content());
            first = 1;
        }
        turn(out, "system", "Cutting Knowledge Date: December 2023\nToday Date: "
                + (date == null ? DEFAULT_DATE : date) + "\n\n" + system);
        for (int i = first; i < messages.size(); i++) {
            turn(out, messages.get(i).role(), trim(messages.get(i).content()));
        }
        if (addGenerationPrompt) {
            header(out, "assistant");
        }
        return out;
    }

    private static void turn(List<Piece> out, String role, String content) {
        header(out, role);
        out.add(new Piece(content, false));
        out.add(new Piece(EOT, true));
    }

    private static void header(List<Piece> out, String role) {
        out.add(new Piece(START_HEADER, true));
        out.add(new Piece(role, false));
        out.add(new Piece(END_HEADER, true));
        out.add(new Piece("\n\n", false));
    }

    private static String join(List<Piece> pieces) {
        StringBuilder sb = new StringBuilder();
        for (Piece p : pieces) {
            sb.append(p.text());
        }
        return sb.toString();
    }

    /** Removes leading and trailing whitespace (JavaScript {@code \s}, including lone code points U+2028 etc.). */
    static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && UnicodeClasses.isSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && UnicodeClasses.isSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }
}
