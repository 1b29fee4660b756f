package io.earnidle.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packages of the main code of the backend and of the browser node (the module the backend builds on) form no
 * cycle: a package that uses another is never used by it, directly or through others. Dependencies are read from
 * the code (imports, static imports and fully qualified {@code io.earnidle} names), with comments and string
 * literals left out, so a javadoc link is not a dependency.
 */
class PackageCyclesTest {
    private static final Path MODULE = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
    /** A package name (lower-case segments) followed by a class name or an import's {@code *}. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.earnidle(?:\\.[a-z_][a-z0-9_]*)*)\\s*\\.\\s*(?:[A-Z]|\\*)");
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    @ParameterizedTest
    @ValueSource(strings = {"src/main/java", "../browser-node/src/main/java"})
    void mainPackagesHaveNoCycles(String sources) throws IOException {
        Map<String, Set<String>> graph = packageGraph(MODULE.resolve(sources).normalize());
        assertTrue(graph.size() >= 5, () -> sources + ": only " + graph.keySet() + " found");
        assertTrue(graph.values().stream().mapToInt(Set::size).sum() >= graph.size() - 1,
                () -> sources + ": suspiciously few dependencies read: " + graph);
        List<List<String>> cycles = cycles(graph);
        assertEquals(List.of(), cycles, () -> sources + " has package cycles (each: a -> b -> ... -> a)");
    }

    @Test
    void findsCyclesAndOnlyCycles() {
        Map<String, Set<String>> graph = Map.of(
                "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of(), "e", Set.of("d"));
        assertEquals(List.of(List.of("a", "b", "c", "a")), cycles(graph));
        assertEquals(List.of(), cycles(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of())));
    }

    @Test
    void readsCodeReferencesButNotCommentsOrStrings() {
        String src = """
                package io.earnidle.x.a;
                import io.earnidle.x.b.B;
                import static io.earnidle.x.c.C.f;
                import io.earnidle.x.d.*;
                /** See {@link io.earnidle.x.e.E}. */
                class A { // io.earnidle.x.f.F
                    String s = "io.earnidle.x.g.G \\" /*";
                    char q = '"';
                    Object o = io.earnidle.x.h.H.make();
                    String t = \"""
                        io.earnidle.x.i.I
                        \""";
                }
                """;
        assertEquals(Set.of("io.earnidle.x.b", "io.earnidle.x.c", "io.earnidle.x.d", "io.earnidle.x.h"),
                references(codeOnly(src)));
    }

    /** Package of the tree -> the other io.earnidle packages its files use (in the tree or outside it). */
    static Map<String, Set<String>> packageGraph(Path root) throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        for (Path f : files) {
            String code = codeOnly(Files.readString(f));
            Matcher m = PACKAGE.matcher(code);
            if (!m.find()) {
                continue; // package-info without a package line, or the default package
            }
            String pkg = m.group(1);
            Set<String> deps = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
            references(code.substring(m.end())).stream().filter(d -> !d.equals(pkg)).forEach(deps::add);
        }
        return graph;
    }

    static Set<String> references(String code) {
        Set<String> out = new TreeSet<>();
        Matcher m = REFERENCE.matcher(code);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** Java source with comments, string and char literals and text blocks blanked (line breaks kept). */
    static String codeOnly(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            String open;
            String end;
            if (src.startsWith("//", i)) {
                open = "//";
                end = "\n";
            } else if (src.startsWith("/*", i)) {
                open = "/*";
                end = "*/";
            } else if (src.startsWith("\"\"\"", i)) {
                open = "\"\"\"";
                end = open;
            } else if (c == '"' || c == '\'') {
                open = String.valueOf(c);
                end = open;
            } else {
                out.append(c);
                i++;
                continue;
            }
            boolean escapes = open.equals(end); // literals, not comments
            int j = i + open.length();
            while (j < n && !src.startsWith(end, j)) {
                j += escapes && src.charAt(j) == '\\' ? 2 : 1;
            }
            j = Math.min(n, j + (end.equals("\n") ? 0 : end.length()));
            src.substring(i, j).chars().forEach(ch -> out.append(ch == '\n' ? '\n' : ' '));
            i = j;
        }
        return out.toString();
    }

    /** One cycle per strongly connected component of more than one package, as a path a -> ... -> a. */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        List<List<String>> out = new ArrayList<>();
        for (Set<String> component : components(graph)) {
            if (component.size() < 2) {
                continue;
            }
            String start = component.iterator().next();
            out.add(pathBack(graph, component, start));
        }
        return out;
    }

    /** A shortest path from start back to start inside the component (breadth first). */
    private static List<String> pathBack(Map<String, Set<String>> graph, Set<String> component, String start) {
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String p = queue.removeFirst();
            for (String d : new TreeSet<>(graph.getOrDefault(p, Set.of()))) {
                if (d.equals(start)) {
                    List<String> path = new ArrayList<>(List.of(start));
                    for (String q = p; !q.equals(start); q = parent.get(q)) {
                        path.addFirst(q);
                    }
                    path.addFirst(start);
                    return path;
                }
                if (component.contains(d) && !parent.containsKey(d)) {
                    parent.put(d, p);
                    queue.addLast(d);
                }
            }
        }
        throw new IllegalStateException("no path back to " + start);
    }

    /** Strongly connected components (Tarjan), each sorted, in order of their smallest package. */
    private static List<Set<String>> components(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        List<Set<String>> out = new ArrayList<>();
        for (String v : new TreeSet<>(graph.keySet())) {
            if (!index.containsKey(v)) {
                connect(v, graph, index, low, stack, out);
            }
        }
        out.sort((a, b) -> a.iterator().next().compareTo(b.iterator().next()));
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, List<Set<String>> out) {
        index.put(v, index.size());
        low.put(v, index.get(v));
        stack.push(v);
        for (String w : new TreeSet<>(graph.getOrDefault(v, Set.of()))) {
            if (!index.containsKey(w)) {
                connect(w, graph, index, low, stack, out);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (stack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                component.add(w);
            } while (!w.equals(v));
            out.add(component);
        }
    }
}
