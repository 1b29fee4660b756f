package io.earnidle.load;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Failed requests by what failed ("poll HTTP 500", "submit IOException" ...), counted over the whole run. */
final class Errors {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void add(String what) {
        counts.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    Map<String, Long> byKind() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
