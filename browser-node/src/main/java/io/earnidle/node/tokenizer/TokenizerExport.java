package io.earnidle.node.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the plain text export of a tokenizer ({@code src/test/node/export-llama3-tokenizer.mjs}: tokens.txt,
 * merges.txt, specials.tsv, meta.txt, escaped) into a {@link Tokenizer}. Platform neutral (no file access), so TeaVM
 * code can call it.
 */
public final class TokenizerExport {
    private TokenizerExport() {
    }

    /**
     * Builds a tokenizer from the lines of the text export ({@code export-llama3-tokenizer.mjs}), still escaped
     * ({@code \\}, {@code \n}, {@code \r}, {@code \t}): {@code tokenLines} is tokens.txt (line i = token i),
     * {@code mergeLines} merges.txt ({@code LEFT RIGHT}, line r = rank r), {@code specialLines} specials.tsv
     * ({@code ID<TAB>TOKEN<TAB>TYPE}; unlisted ids are NORMAL). Empty trailing lines are ignored. Platform neutral (no
     * file access), so TeaVM code can call it.
     */
    public static Tokenizer fromExport(List<String> tokenLines, List<String> mergeLines, List<String> specialLines,
                                       int bosId, int eosId) {
        int nTok = withoutTrailingEmpty(tokenLines);
        String[] toks = new String[nTok];
        for (int i = 0; i < nTok; i++) {
            toks[i] = unescape(tokenLines.get(i), "tokens line " + (i + 1));
        }
        int nMerge = withoutTrailingEmpty(mergeLines);
        String[] merges = new String[nMerge];
        for (int r = 0; r < nMerge; r++) {
            String line = mergeLines.get(r);
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new IllegalArgumentException("merges line " + (r + 1) + " is not 'LEFT RIGHT'");
            }
            merges[r] = unescape(line.substring(0, space), "merges line " + (r + 1)) + " "
                    + unescape(line.substring(space + 1), "merges line " + (r + 1));
        }
        int[] types = new int[nTok];
        java.util.Arrays.fill(types, Tokenizer.TYPE_NORMAL);
        int nSpecial = withoutTrailingEmpty(specialLines);
        for (int k = 0; k < nSpecial; k++) {
            String line = specialLines.get(k);
            int t1 = line.indexOf('\t');
            int t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
            if (t1 <= 0 || t2 < 0 || line.indexOf('\t', t2 + 1) >= 0) {
                throw new IllegalArgumentException("specials line " + (k + 1) + " is not 'ID<TAB>TOKEN<TAB>TYPE'");
            }
            int id = parseInt(line.substring(0, t1), "specials line " + (k + 1) + " id");
            if (id < 0 || id >= nTok) {
                throw new IllegalArgumentException("specials line " + (k + 1) + ": id " + id + " outside the "
                        + nTok + " tokens");
            }
            String tok = unescape(line.substring(t1 + 1, t2), "specials line " + (k + 1));
            if (!tok.equals(toks[id])) {
                throw new IllegalArgumentException("specials line " + (k + 1) + ": token differs from token " + id);
            }
            types[id] = parseInt(line.substring(t2 + 1), "specials line " + (k + 1) + " type");
        }
        return new Tokenizer(toks, types, merges, bosId, eosId);
    }

    /**
     * Same as {@link #fromExport(List, List, List, int, int)} from whole file contents; BOS and EOS ids come from
     * meta.txt ({@code bos_token_id=}, {@code eos_token_id=}).
     */
    public static Tokenizer fromExportText(String tokensTxt, String mergesTxt, String specialsTsv, String metaTxt) {
        int bos = -1;
        int eos = -1;
        for (String line : lines(metaTxt)) {
            if (line.startsWith("bos_token_id=")) {
                bos = parseInt(line.substring(13), "meta bos_token_id");
            } else if (line.startsWith("eos_token_id=")) {
                eos = parseInt(line.substring(13), "meta eos_token_id");
            }
        }
        return fromExport(lines(tokensTxt), lines(mergesTxt), lines(specialsTsv), bos, eos);
    }

    /** Splits on LF only (tokens may contain CR only in escaped form). */
    public static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                out.add(text.substring(start, i));
                start = i + 1;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }

    private static int withoutTrailingEmpty(List<String> lines) {
        int n = lines.size();
        while (n > 0 && lines.get(n - 1).isEmpty()) {
            n--;
        }
        return n;
    }

    private static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not an integer");
        }
    }

    /** Undoes the export's escaping: backslash followed by one of backslash, n, r, t. */
    public static String unescape(String s, String where) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch != '\\') {
                b.append(ch);
                continue;
            }
            if (++i >= s.length()) {
                throw new IllegalArgumentException(where + ": dangling backslash");
            }
            switch (s.charAt(i)) {
                case '\\' -> b.append('\\');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                default -> throw new IllegalArgumentException(where + ": unknown escape \\" + s.charAt(i));
            }
        }
        return b.toString();
    }
}
