package io.earnidle.node.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written equivalent of the Llama 3 pre-tokenizer regex
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * (no java.util.regex, so it behaves the same under TeaVM). Letters, numbers and whitespace are classified exactly as
 * the JavaScript regex engine of the reference tokenizers does ({@code /u} flag): see {@link UnicodeClasses}. The
 * case-insensitive contractions only match ASCII letters, as in the references' rewrite
 * {@code '([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])}. A lone surrogate is one code point that is neither a
 * letter, a number nor whitespace.
 */
public final class PreTokenizer {
    private PreTokenizer() {
    }

    static boolean isLetter(int cp) {
        return UnicodeClasses.isLetter(cp);
    }

    static boolean isNumber(int cp) {
        return UnicodeClasses.isNumber(cp);
    }

    /** JavaScript {@code \s}, as in the reference tokenizers' regex. */
    static boolean isSpace(int cp) {
        return UnicodeClasses.isSpace(cp);
    }

    private static boolean isNewline(int cp) {
        return cp == '\r' || cp == '\n';
    }

    public static List<String> split(String text) {
        int[] cps = codePoints(text);
        int n = cps.length;
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < n) {
            int end = match(cps, i, n);
            out.add(new String(cps, i, end - i));
            i = end;
        }
        return out;
    }

    static int[] codePoints(String text) {
        int[] cps = new int[text.length()];
        int n = 0;
        for (int k = 0; k < text.length(); ) {
            int cp = text.codePointAt(k);
            cps[n++] = cp;
            k += Character.charCount(cp);
        }
        return n == cps.length ? cps : java.util.Arrays.copyOf(cps, n);
    }

    /** End (exclusive) of the pre-token that starts at code point {@code i} of {@code cps[0..n)}; always > i. */
    static int next(int[] cps, int i, int n) {
        return match(cps, i, n);
    }

    private static int lower(int cp) {
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    }

    /** Returns the end (exclusive) of the token starting at {@code i}; always > i. */
    private static int match(int[] c, int i, int n) {
        int cp = c[i];
        // 1. contractions
        if (cp == '\'' && i + 1 < n) {
            int a = lower(c[i + 1]);
            if (a == 's' || a == 't' || a == 'm' || a == 'd') {
                return i + 2;
            }
            if (i + 2 < n) {
                int b = lower(c[i + 2]);
                if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                    return i + 3;
                }
            }
        }
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        if (isLetter(cp)) {
            return letters(c, i, n);
        }
        if (!isNewline(cp) && !isNumber(cp) && i + 1 < n && isLetter(c[i + 1])) {
            return letters(c, i + 1, n);
        }
        // 3. \p{N}{1,3}
        if (isNumber(cp)) {
            int j = i;
            while (j < n && j - i < 3 && isNumber(c[j])) {
                j++;
            }
            return j;
        }
        // 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int s = cp == ' ' ? i + 1 : i;
        if (s < n && isSymbol(c[s])) {
            int j = s;
            while (j < n && isSymbol(c[j])) {
                j++;
            }
            while (j < n && isNewline(c[j])) {
                j++;
            }
            return j;
        }
        // cp is whitespace here
        int wsEnd = i;
        while (wsEnd < n && isSpace(c[wsEnd])) {
            wsEnd++;
        }
        // 5. \s*[\r\n]+ : ends after the last newline inside the whitespace run
        int lastNl = -1;
        for (int j = i; j < wsEnd; j++) {
            if (isNewline(c[j])) {
                lastNl = j;
            }
        }
        if (lastNl >= 0) {
            return lastNl + 1;
        }
        // 6. \s+(?!\S)
        if (wsEnd == n) {
            return n;
        }
        if (wsEnd - i >= 2) {
            return wsEnd - 1;
        }
        // 7. \s+
        return wsEnd > i ? wsEnd : i + 1;
    }

    private static boolean isSymbol(int cp) {
        return !isSpace(cp) && !isLetter(cp) && !isNumber(cp);
    }

    private static int letters(int[] c, int j, int n) {
        while (j < n && isLetter(c[j])) {
            j++;
        }
        return j;
    }
}
