package io.earnidle.node.synth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer exported as text files by {@code src/test/node/export-llama3-tokenizer.mjs}: tokens.txt (one escaped
 * token per line, id = line number), merges.txt ("LEFT RIGHT" per rank), specials.tsv ("ID\tTOKEN\tTYPE"),
 * chat_template.jinja (verbatim, optional) and meta.txt ("key=value": bos_token_id, eos_token_id, ...).
 * Escapes: backslash followed by one of backslash, n, r, t.
 */
public record TokenizerFiles(String[] tokens, int[] types, String[] merges, int bosId, int eosId, String chatTemplate) {

    public static TokenizerFiles read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("tokenizer directory " + dir + " does not exist");
        }
        List<String> tok = lines(dir.resolve("tokens.txt"));
        String[] tokens = new String[tok.size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = unescape(tok.get(i), "tokens.txt line " + (i + 1));
        }
        List<String> mer = lines(dir.resolve("merges.txt"));
        String[] merges = new String[mer.size()];
        for (int i = 0; i < merges.length; i++) {
            String line = mer.get(i);
            int sp = line.indexOf(' ');
            if (sp <= 0 || sp != line.lastIndexOf(' ') || sp == line.length() - 1) {
                throw new IOException("merges.txt line " + (i + 1) + " is not 'LEFT RIGHT'");
            }
            merges[i] = unescape(line.substring(0, sp), "merges.txt") + " " + unescape(line.substring(sp + 1), "merges.txt");
        }
        int[] types = new int[tokens.length];
        java.util.Arrays.fill(types, 1);
        for (String line : lines(dir.resolve("specials.tsv"))) {
            String[] f = line.split("\t", -1);
            if (f.length != 3) {
                throw new IOException("specials.tsv line '" + line + "' does not have 3 tab-separated fields");
            }
            int id = parseInt(f[0], "specials.tsv id");
            if (id < 0 || id >= tokens.length) {
                throw new IOException("specials.tsv id " + id + " outside the " + tokens.length + " tokens");
            }
            if (!unescape(f[1], "specials.tsv").equals(tokens[id])) {
                throw new IOException("specials.tsv token for id " + id + " differs from tokens.txt");
            }
            types[id] = parseInt(f[2], "specials.tsv type");
        }
        Map<String, String> meta = new HashMap<>();
        for (String line : lines(dir.resolve("meta.txt"))) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IOException("meta.txt line '" + line + "' is not key=value");
            }
            meta.put(line.substring(0, eq), unescape(line.substring(eq + 1), "meta.txt"));
        }
        int bos = parseInt(require(meta, "bos_token_id"), "bos_token_id");
        int eos = parseInt(require(meta, "eos_token_id"), "eos_token_id");
        Path tmpl = dir.resolve("chat_template.jinja");
        String template = Files.exists(tmpl) ? Files.readString(tmpl, StandardCharsets.UTF_8) : null;
        return new TokenizerFiles(tokens, types, merges, bos, eos, template);
    }

    private static String require(Map<String, String> meta, String key) throws IOException {
        String v = meta.get(key);
        if (v == null) {
            throw new IOException("meta.txt has no " + key);
        }
        return v;
    }

    private static int parseInt(String s, String what) throws IOException {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IOException(what + " '" + s + "' is not an integer");
        }
    }

    private static List<String> lines(Path p) throws IOException {
        if (!Files.exists(p)) {
            throw new IOException("tokenizer file " + p + " is missing");
        }
        String all = Files.readString(p, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < all.length(); i++) {
            if (all.charAt(i) == '\n') {
                out.add(all.substring(start, i));
                start = i + 1;
            }
        }
        if (start < all.length()) {
            out.add(all.substring(start));
        }
        return out;
    }

    /** The export's escaping, undone by the tokenizer's own parser; a bad escape is a bad file. */
    static String unescape(String s, String where) throws IOException {
        try {
            return io.earnidle.node.tokenizer.TokenizerExport.unescape(s, where);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
