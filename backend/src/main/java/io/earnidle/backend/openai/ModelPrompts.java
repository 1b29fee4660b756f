package io.earnidle.backend.openai;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

import io.earnidle.backend.models.ModelCatalog;
import io.earnidle.backend.models.ModelFacts;
import io.earnidle.backend.models.ModelTokenizers;
import io.earnidle.node.tokenizer.ChatMessage;
import io.earnidle.node.tokenizer.ChatTemplate;
import io.earnidle.node.tokenizer.Tokenizer;

/**
 * Prompts as token ids, made with the nodes' own code: chat messages rendered by {@link ChatTemplate} in the
 * model's chat format (from its GGUF chat template, {@link ModelFacts#chatFormat}) and tokenized by the model's
 * {@link Tokenizer}, read from the model file (one per file version, kept).
 */
final class ModelPrompts {
    private static final DateTimeFormatter TEMPLATE_DATE = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH)
            .withZone(ZoneOffset.UTC);
    private final ModelTokenizers tokenizers;

    ModelPrompts(ModelTokenizers tokenizers) {
        this.tokenizers = tokenizers;
    }

    /**
     * The prompt of a chat: the messages in the model's layout, ending with the assistant's header. The Llama 3.2
     * template's "Today Date" is {@code today} (UTC), as llama.cpp's {@code strftime_now} gives it.
     */
    int[] chat(ModelCatalog.Entry model, List<ChatMessage> messages, Instant today) {
        String format = model.chatFormat();
        if (format == null) {
            throw OpenAiError.invalid("model", "The model '" + model.model().id() + "' has no chat template; use "
                    + "POST /v1/completions with it");
        }
        List<ChatTemplate.Piece> chat = format.equals(ModelFacts.LLAMA32)
                ? ChatTemplate.llama32Pieces(messages, true, TEMPLATE_DATE.format(today))
                : ChatTemplate.llama3Pieces(messages, true);
        Tokenizer tok = tokenizer(model);
        synchronized (tok) { // the tokenizer keeps a merge cache
            return tok.encode(chat); // starts with <|begin_of_text|>; message text never becomes a special token
        }
    }

    /** The prompt of a text completion: BOS (when the model has one) and the text's tokens. */
    int[] text(ModelCatalog.Entry model, String prompt) {
        return tokenizers.encode(model.model(), prompt, true);
    }

    /** "stop" when the output ended with an end-of-generation token or was cut at a stop string, else "length". */
    String finishReason(ModelCatalog.Entry model, int[] ids, int maxTokens) {
        Tokenizer tok = tokenizer(model);
        boolean eog = ids.length > 0 && tok.isEndOfGeneration(ids[ids.length - 1]);
        return eog || ids.length < maxTokens ? "stop" : "length";
    }

    Tokenizer tokenizer(ModelCatalog.Entry model) {
        return tokenizers.of(model.model());
    }
}
