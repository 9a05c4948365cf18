package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The load scenarios are one table in {@code scripts/bench} and one in {@code scripts/bench-compare}:
 * each usage names each of its scenarios, and each line's flags are ones courier-bench accepts (for
 * every target, in the comparison).
 */
class BenchScenariosTest {
    private static final Path SCRIPT = Path.of("..", "scripts", "bench");
    private static final Path COMPARE = Path.of("..", "scripts", "bench-compare");
    private static final String COMPARE_USAGE_END = "# Every scenario publishes";
    private static final Pattern USAGE_LINE = Pattern.compile("^#   ([a-z][a-z0-9-]*) {2,}\\S.*");

    /** Scenario name to its words, from the {@code scenarios='...'} table. */
    private static Map<String, List<String>> table(List<String> lines) {
        Map<String, List<String>> table = new LinkedHashMap<>();
        int start = lines.indexOf("scenarios='");
        assertTrue(start >= 0, "scripts/bench has a scenarios='...' table");
        for (String line : lines.subList(start + 1, lines.size())) {
            if (line.equals("'")) {
                return table;
            }
            String[] words = line.trim().split("\\s+");
            assertEquals(
                    null,
                    table.put(words[0], List.of(words).subList(1, words.length)),
                    "one line per scenario: " + words[0]);
        }
        throw new AssertionError("the scenarios table is not closed");
    }

    /** The scenario names the usage describes: the section before "Flags after the scenario". */
    private static List<String> usage(List<String> lines) {
        return usage(lines, "# Flags after the scenario");
    }

    private static List<String> usage(List<String> lines, String end) {
        List<String> names = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith(end)) {
                break;
            }
            Matcher m = USAGE_LINE.matcher(line);
            if (m.matches()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static List<String> lines() throws IOException {
        return Files.readAllLines(SCRIPT);
    }

    @Test
    void theUsageDescribesEveryScenarioInTheTableAndNoOther() throws IOException {
        List<String> lines = lines();
        List<String> described = usage(lines);
        assertFalse(described.isEmpty());
        assertEquals(List.copyOf(table(lines).keySet()), described);
    }

    @Test
    void everyScenariosFlagsAreAcceptedByCourierBench() throws IOException {
        for (Map.Entry<String, List<String>> e : table(lines()).entrySet()) {
            List<String> args = new ArrayList<>(
                    List.of("--url", "http://127.0.0.1:9", "--secret", "0123456789abcdef0123456789abcdef"));
            List<String> words = e.getValue();
            for (int i = 0; i < words.size(); i++) {
                String w = words.get(i);
                if (w.equals("--sizes")) {
                    String sizes = words.get(++i);
                    assertTrue(
                            Arrays.stream(sizes.split(","))
                                    .mapToInt(Integer::parseInt)
                                    .allMatch(n -> n >= Publication.MIN_BYTES),
                            sizes);
                } else if (w.matches("[A-Z][A-Z0-9_]*=.*")) {
                    assertTrue(
                            w.startsWith("COURIER_"),
                            e.getKey() + ": " + w + " (expected: a server setting, COURIER_...)");
                } else {
                    args.add(w);
                }
            }
            LoadOptions options = LoadOptions.parse(args.toArray(String[]::new), Map.of());
            assertTrue(options.scenario().equals("fanout") || options.scenario().equals("connections"), e.getKey());
        }
    }

    @Test
    void theComparisonsUsageDescribesEveryScenarioInItsTableAndNoOther() throws IOException {
        List<String> lines = Files.readAllLines(COMPARE);
        List<String> described = usage(lines, COMPARE_USAGE_END);
        assertFalse(described.isEmpty());
        assertEquals(List.copyOf(table(lines).keySet()), described);
    }

    @Test
    void theComparisonsUsageDescribesEveryTargetItAccepts() throws IOException {
        List<String> lines = Files.readAllLines(COMPARE);
        String refusal = lines.stream()
                .filter(l -> l.contains("--targets: '$t' (expected: "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("scripts/bench-compare refuses an unknown target"));
        Matcher m = Pattern.compile("\\(expected: ([a-z, ]+)\\)").matcher(refusal);
        assertTrue(m.find(), refusal);
        List<String> accepted = List.of(m.group(1).split(", "));
        assertTrue(accepted.contains("before"), refusal);
        List<String> header = lines.subList(0, lines.indexOf("set -euo pipefail"));
        int targets = header.indexOf(header.stream()
                .filter(l -> l.startsWith(COMPARE_USAGE_END))
                .findFirst()
                .orElseThrow());
        List<String> described = new ArrayList<>();
        for (String line : header.subList(targets, header.size())) {
            Matcher t = USAGE_LINE.matcher(line);
            if (t.matches()) {
                described.add(t.group(1));
            }
        }
        assertEquals(
                accepted.stream().sorted().toList(), described.stream().sorted().toList());
        assertTrue(header.stream().anyMatch(l -> l.contains("BEFORE_JAR")), "the environment names BEFORE_JAR");
    }

    @Test
    void everyComparisonScenarioParsesForEveryTarget() throws IOException {
        for (Map.Entry<String, List<String>> e :
                table(Files.readAllLines(COMPARE)).entrySet()) {
            for (String target : List.of("courier", "nats", "socketio")) {
                List<String> args = new ArrayList<>(List.of(
                        "--url",
                        "http://127.0.0.1:9",
                        "--secret",
                        "0123456789abcdef0123456789abcdef",
                        "--target",
                        target,
                        "--duration",
                        "10"));
                args.addAll(e.getValue());
                LoadOptions options = LoadOptions.parse(args.toArray(String[]::new), Map.of());
                assertEquals(target, options.target(), e.getKey());
                assertEquals(100, options.sizeBytes(), e.getKey() + ": every comparison uses 100 B messages");
            }
        }
    }
}
