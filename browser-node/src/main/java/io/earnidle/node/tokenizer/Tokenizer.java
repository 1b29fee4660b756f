package io.earnidle.node.tokenizer;

import io.earnidle.node.gguf.GgufFile;
import io.earnidle.node.gguf.GgufFormatException;
import io.earnidle.node.gguf.Utf8;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Byte-level BPE tokenizer (llama.cpp "gpt2" model, Llama 3 pre-tokenizer) built from GGUF metadata. */
public final class Tokenizer {
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;

    private final String[] tokens;
    private final int[] tokenTypes;
    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<String, Integer> mergeRanks = new HashMap<>();
    private final String[] specials; // sorted longest first
    private final int bosId;
    private final int eosId;
    private final int eotId;

    public Tokenizer(String[] tokens, int[] tokenTypes, String[] merges, int bosId, int eosId) {
        this.tokens = tokens.clone();
        this.tokenTypes = tokenTypes == null ? new int[tokens.length] : tokenTypes.clone();
        if (this.tokenTypes.length != tokens.length) {
            throw new GgufFormatException("token_type has " + this.tokenTypes.length + " entries but there are "
                    + tokens.length + " tokens");
        }
        List<String> sp = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            ids.putIfAbsent(tokens[i], i);
            if (this.tokenTypes[i] == TYPE_CONTROL || this.tokenTypes[i] == TYPE_USER_DEFINED) {
                if (!tokens[i].isEmpty()) {
                    sp.add(tokens[i]);
                }
            }
        }
        sp.sort((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b));
        this.specials = sp.toArray(new String[0]);
        for (int r = 0; r < merges.length; r++) {
            mergeRanks.putIfAbsent(merges[r], r);
        }
        for (int b = 0; b < 256; b++) {
            if (!ids.containsKey(String.valueOf(ByteLevel.byteToChar(b)))) {
                throw new GgufFormatException("vocabulary lacks the byte-level token for byte " + b);
            }
        }
        checkId(bosId, "bos");
        checkId(eosId, "eos");
        this.bosId = bosId;
        this.eosId = eosId;
        Integer eot = ids.get("<|eot_id|>");
        this.eotId = eot == null ? -1 : eot;
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

    public int vocabSize() {
        return tokens.length;
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

    public boolean isControl(int id) {
        return tokenTypes[id] == TYPE_CONTROL;
    }

    /** True for ids that end generation (EOS, and {@code <|eot_id|>} when present). */
    public boolean isEndOfGeneration(int id) {
        return id == eosId || id == eotId;
    }

    /** Encodes text; special tokens written literally in the text (e.g. {@code <|eot_id|>}) become their ids. */
    public int[] encode(String text, boolean addBos) {
        List<Integer> out = new ArrayList<>();
        if (addBos) {
            if (bosId < 0) {
                throw new IllegalStateException("the model defines no BOS token");
            }
            out.add(bosId);
        }
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String sp = specialAt(text, i);
            if (sp != null) {
                encodeOrdinary(text.substring(start, i), out);
                out.add(ids.get(sp));
                i += sp.length();
                start = i;
            } else {
                i++;
            }
        }
        encodeOrdinary(text.substring(start), out);
        int[] r = new int[out.size()];
        for (int k = 0; k < r.length; k++) {
            r[k] = out.get(k);
        }
        return r;
    }

    private String specialAt(String text, int i) {
        if (text.charAt(i) != '<') {
            // all Llama-style specials start with '<'; fall back to a full scan otherwise
            for (String s : specials) {
                if (s.charAt(0) != '<' && text.startsWith(s, i)) {
                    return s;
                }
            }
            return null;
        }
        for (String s : specials) {
            if (text.startsWith(s, i)) {
                return s;
            }
        }
        return null;
    }

    private void encodeOrdinary(String text, List<Integer> out) {
        if (text.isEmpty()) {
            return;
        }
        for (String piece : PreTokenizer.split(text)) {
            byte[] utf8 = Utf8.encode(piece);
            String mapped = ByteLevel.encodeBytes(utf8, 0, utf8.length);
            Integer whole = ids.get(mapped);
            if (whole != null) {
                out.add(whole);
                continue;
            }
            bpe(mapped, out);
        }
    }

    private void bpe(String word, List<Integer> out) {
        List<String> sym = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            sym.add(String.valueOf(word.charAt(i)));
        }
        while (sym.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int best = -1;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = mergeRanks.get(sym.get(i) + " " + sym.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String a = sym.get(best);
            String b = sym.get(best + 1);
            List<String> next = new ArrayList<>(sym.size());
            for (int i = 0; i < sym.size(); i++) {
                if (i + 1 < sym.size() && sym.get(i).equals(a) && sym.get(i + 1).equals(b)) {
                    next.add(a + b);
                    i++;
                } else {
                    next.add(sym.get(i));
                }
            }
            sym = next;
        }
        for (String s : sym) {
            Integer id = ids.get(s);
            if (id != null) {
                out.add(id);
            } else {
                for (int i = 0; i < s.length(); i++) {
                    out.add(ids.get(String.valueOf(s.charAt(i))));
                }
            }
        }
    }

    /** Raw bytes a token stands for (control tokens: their text in UTF-8). */
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + tokens.length);
        }
        String t = tokens[id];
        if (tokenTypes[id] == TYPE_CONTROL || tokenTypes[id] == TYPE_USER_DEFINED) {
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
}
