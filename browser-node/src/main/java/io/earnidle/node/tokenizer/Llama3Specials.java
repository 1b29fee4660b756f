package io.earnidle.node.tokenizer;

/**
 * The 256 added tokens of the Llama 3 vocabulary (ids 128000–128255). Llama 3.0 named most of them
 * {@code <|reserved_special_token_N|>}; Llama 3.1 and later (3.2 included) gave ids 128004, 128008 and 128010
 * their roles and renumbered the reserved ones. The byte-level part of the vocabulary is the same in both.
 */
public final class Llama3Specials {
    public static final int FIRST_ID = 128000;
    public static final int COUNT = 256;

    private Llama3Specials() {
    }

    /** The Llama 3.1+ names, index k for id 128000 + k. */
    public static String[] names31() {
        String[] n = new String[COUNT];
        String[] named = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
        System.arraycopy(named, 0, n, 0, named.length);
        for (int k = named.length; k < COUNT; k++) {
            n[k] = "<|reserved_special_token_" + (k - 8) + "|>";
        }
        return n;
    }

    /**
     * When {@code tokens} is the Llama 3.0 vocabulary (128,256 tokens, {@code <|reserved_special_token_2|>} at
     * 128004), a copy with the Llama 3.1+ names; otherwise {@code tokens} itself.
     */
    public static String[] renamedTo31(String[] tokens) {
        if (tokens.length != FIRST_ID + COUNT || !"<|reserved_special_token_2|>".equals(tokens[FIRST_ID + 4])) {
            return tokens;
        }
        String[] out = tokens.clone();
        System.arraycopy(names31(), 0, out, FIRST_ID, COUNT);
        return out;
    }
}
