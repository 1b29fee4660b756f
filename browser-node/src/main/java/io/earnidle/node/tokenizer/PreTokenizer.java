package io.earnidle.node.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written equivalent of the Llama 3 pre-tokenizer regex
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * (no java.util.regex, so it behaves the same under TeaVM).
 */
public final class PreTokenizer {
    private PreTokenizer() {
    }

    static boolean isLetter(int cp) {
        return Character.isLetter(cp);
    }

    static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    static boolean isSpace(int cp) {
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean isNewline(int cp) {
        return cp == '\r' || cp == '\n';
    }

    public static List<String> split(String text) {
        int[] cps = new int[text.length()];
        int n = 0;
        for (int k = 0; k < text.length(); ) {
            int cp = text.codePointAt(k);
            cps[n++] = cp;
            k += Character.charCount(cp);
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < n) {
            int end = match(cps, i, n);
            out.add(new String(cps, i, end - i));
            i = end;
        }
        return out;
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
