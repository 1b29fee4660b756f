package io.earnidle.node.tokenizer;

import java.util.List;

/**
 * Llama 3 Instruct chat formatting, written out in Java (no Jinja engine). Message contents are trimmed as the
 * templates' {@code | trim} filter does (JavaScript {@code String.trim} whitespace, as the reference renderer of
 * {@code @lenml/tokenizers} uses).
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

    /**
     * The Llama 3 / 3.1 / 3.2 Instruct message layout, as llama.cpp's built-in {@code llama3} template and the
     * template shipped with the Llama 3 tokenizer produce it:
     * {@code <|begin_of_text|>} then, per message,
     * {@code <|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>}, then (if {@code addGenerationPrompt})
     * {@code <|start_header_id|>assistant<|end_header_id|>\n\n}.
     */
    public static String llama3(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder(BOS);
        for (ChatMessage m : messages) {
            turn(sb, m.role(), trim(m.content()));
        }
        if (addGenerationPrompt) {
            sb.append(START_HEADER).append("assistant").append(END_HEADER).append("\n\n");
        }
        return sb.toString();
    }

    /**
     * The Hugging Face Llama-3.2-Instruct template without tools: a system turn always comes first and starts with
     * {@code Cutting Knowledge Date: December 2023\nToday Date: DATE\n\n} followed by the (trimmed) content of a
     * leading system message, if any; the other messages follow as in {@link #llama3}.
     */
    public static String llama32(List<ChatMessage> messages, boolean addGenerationPrompt, String date) {
        StringBuilder sb = new StringBuilder(BOS);
        int first = 0;
        String system = "";
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            system = trim(messages.get(0).content());
            first = 1;
        }
        turn(sb, "system", "Cutting Knowledge Date: December 2023\nToday Date: "
                + (date == null ? DEFAULT_DATE : date) + "\n\n" + system);
        for (int i = first; i < messages.size(); i++) {
            turn(sb, messages.get(i).role(), trim(messages.get(i).content()));
        }
        if (addGenerationPrompt) {
            sb.append(START_HEADER).append("assistant").append(END_HEADER).append("\n\n");
        }
        return sb.toString();
    }

    private static void turn(StringBuilder sb, String role, String content) {
        sb.append(START_HEADER).append(role).append(END_HEADER).append("\n\n").append(content).append(EOT);
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
