package io.earnidle.backend.models;

import java.io.IOException;
import java.nio.file.Path;

import io.earnidle.node.synth.ModelSynthesizer;
import io.earnidle.node.synth.SynthFileType;
import io.earnidle.node.synth.SynthShape;
import io.earnidle.node.synth.TokenizerFiles;

/** Tiny synthetic Llama files with a chat template of the test's choice (the built-in tiny model has none). */
public final class TinyModels {
    /** An abridged Hugging Face Llama 3.2 Instruct template: what the catalog recognises it by. */
    public static final String LLAMA32_TEMPLATE = "{{- bos_token }}{%- set date_string = \"26 Jul 2024\" %}"
            + "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December "
            + "2023\\n\" }}{{- \"Today Date: \" + date_string + \"\\n\\n\" }}{{- system_message }}"
            + "{{- \"<|eot_id|>\" }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + "
            + "'<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}";

    private TinyModels() {
    }

    /** Writes the tiny shape in {@code type} ({@code f32}, {@code q4_0}, ...) with {@code template} to {@code out}. */
    public static Path write(Path out, String type, long seed, String template) throws IOException {
        ModelSynthesizer.write(out, SynthShape.TINY, SynthFileType.named(type), seed, tokenizer(template));
        return out;
    }

    /** The tiny vocabulary (byte tokens, Llama 3 specials) with {@code template} as its chat template. */
    private static TokenizerFiles tokenizer(String template) {
        String[] vocab = ModelSynthesizer.vocabulary();
        int[] types = new int[vocab.length];
        int firstSpecial = vocab.length - ModelSynthesizer.SPECIALS.length;
        for (int i = 0; i < types.length; i++) {
            types[i] = i >= firstSpecial ? 3 : 1;
        }
        return new TokenizerFiles(vocab, types, new String[0], firstSpecial, firstSpecial + 1, template);
    }
}
