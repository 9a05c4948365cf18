package io.courier.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ratio table of {@code scripts/bench compare}: reads the JSON summaries of its runs and prints, per
 * mode (shared or pinned cores), each figure's median over the runs of every target, its range, and
 * Courier's median divided by each other target's ({@code before}, Courier from another jar, included).
 * <pre>
 *   java -cp courier-bench.jar io.courier.bench.CompareTable TITLE MODE:TARGET:FILE.json ...
 * </pre>
 * A run whose JSON lacks a figure (a server that was not sampled) shows n/a for it. Main thread only.
 */
final class CompareTable {
    /** One figure of the table: its JSON key (a dotted path for nested ones), its name and unit, and its scale. */
    record Figure(String key, String name, double scale, String format, boolean higherIsBetter) {
        /** A count (losses, closes) or the machine's noise rather than a figure of the target: no ratio. */
        boolean counts() {
            return key.equals("lost") || key.equals("disconnectedEarly") || key.equals("otherCores");
        }
    }

    static final List<Figure> FIGURES = List.of(
            new Figure("deliveriesPerSecond", "throughput, deliveries/s", 1, "%,.0f", true),
            new Figure("latencyMicros.p50", "p50 latency, ms", 1e-3, "%.1f", false),
            new Figure("latencyMicros.p99", "p99 latency, ms", 1e-3, "%.1f", false),
            new Figure("serverCpuMicrosPerDelivery", "server CPU per delivery, µs", 1, "%.3f", false),
            new Figure("serverRssPeakKiB", "server RSS, peak MiB", 1 / 1024.0, "%.0f", false),
            new Figure("lost", "lost (missing + unreadable)", 1, "%.0f", false),
            new Figure("disconnectedEarly", "closed by the server", 1, "%.0f", false),
            new Figure("otherCores", "other processes, cores (the machine's noise)", 1, "%.2f", false));

    /** One run: its mode, target and figures by key. */
    record Run(String mode, String target, Map<String, Double> figures) {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: CompareTable TITLE MODE:TARGET:FILE.json ...");
            System.exit(2);
        }
        List<Run> runs = new ArrayList<>();
        for (String arg : Arrays.asList(args).subList(1, args.length)) {
            String[] parts = arg.split(":", 3);
            if (parts.length != 3) {
                throw new IllegalArgumentException(arg + " (expected: MODE:TARGET:FILE)");
            }
            runs.add(new Run(parts[0], parts[1], read(Path.of(parts[2]))));
        }
        print(System.out, args[0], runs);
    }

    /** The figures of one JSON summary: numbers at the top level and one level down, as {@code outer.inner}. */
    static Map<String, Double> read(Path file) throws IOException {
        Map<String, Double> figures = new HashMap<>();
        try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return figures;
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (value.isNumeric()) {
                    figures.put(name, p.getDoubleValue());
                } else if (value == JsonToken.START_OBJECT) {
                    for (JsonToken u = p.nextToken(); u == JsonToken.FIELD_NAME; u = p.nextToken()) {
                        String inner = p.currentName();
                        if (p.nextToken().isNumeric()) {
                            figures.put(name + "." + inner, p.getDoubleValue());
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        Double missing = figures.get("missingDeliveries");
        Double unreadable = figures.get("unreadable");
        if (missing != null && unreadable != null) {
            figures.put("lost", missing + unreadable);
        }
        Double other = figures.get("otherCpuSeconds");
        Double wall = figures.get("cpuWallSeconds");
        if (other != null && wall != null && other >= 0 && wall > 0) {
            figures.put("otherCores", other / wall);
        }
        // -1 means "not measured" in the summaries
        figures.values().removeIf(v -> v < 0);
        return figures;
    }

    static void print(PrintStream out, String title, List<Run> runs) {
        Map<String, Map<String, List<Run>>> byMode = new LinkedHashMap<>();
        for (Run r : runs) {
            byMode.computeIfAbsent(r.mode(), m -> new LinkedHashMap<>())
                    .computeIfAbsent(r.target(), t -> new ArrayList<>())
                    .add(r);
        }
        for (Map.Entry<String, Map<String, List<Run>>> mode : byMode.entrySet()) {
            Map<String, List<Run>> targets = mode.getValue();
            List<String> names = order(targets.keySet());
            List<String> peers =
                    names.stream().filter(n -> !n.equals("courier")).toList();
            boolean ratios = targets.containsKey("courier") && !peers.isEmpty();
            int runCount = targets.values().stream().mapToInt(List::size).max().orElse(0);
            out.printf(
                    Locale.ROOT,
                    "%n%s, %s, median of %d run(s) per target (min-max)%n%n",
                    title,
                    mode.getKey().equals("pinned")
                            ? "pinned (server on core 0, client on core 1)"
                            : "shared cores (unpinned)",
                    runCount);
            StringBuilder header = new StringBuilder("| figure |");
            StringBuilder rule = new StringBuilder("|---|");
            for (String n : names) {
                header.append(' ').append(n).append(" |");
                rule.append("---|");
            }
            if (ratios) {
                for (String peer : peers) {
                    header.append(" courier ÷ ").append(peer).append(" |");
                    rule.append("---|");
                }
            }
            out.println(header);
            out.println(rule);
            for (Figure f : FIGURES) {
                StringBuilder row = new StringBuilder("| ")
                        .append(f.name())
                        .append(f.higherIsBetter() ? " (higher is better)" : "")
                        .append(" |");
                Map<String, Double> medians = new HashMap<>();
                for (String n : names) {
                    double[] values = values(targets.get(n), f);
                    row.append(' ').append(cell(values, f)).append(" |");
                    if (values.length > 0) {
                        medians.put(n, median(values));
                    }
                }
                if (ratios) {
                    for (String peer : peers) {
                        row.append(' ')
                                .append(
                                        f.counts() // a ratio of losses says nothing
                                                ? ""
                                                : ratio(medians.get("courier"), medians.get(peer)))
                                .append(" |");
                    }
                }
                out.println(row);
            }
        }
    }

    /**
     * The targets in table order: {@code courier} first, then {@code before} (the same server from
     * another jar, its baseline), then the peers as the runs named them.
     */
    static List<String> order(Collection<String> targets) {
        List<String> names = new ArrayList<>();
        for (String first : List.of("courier", "before")) {
            if (targets.contains(first)) {
                names.add(first);
            }
        }
        targets.stream().filter(t -> !names.contains(t)).forEach(names::add);
        return names;
    }

    /** The median of a figure over the runs that have it, in the figure's unit; null when none has it. */
    static Double median(List<Run> runs, Figure f) {
        double[] values = values(runs, f);
        return values.length == 0 ? null : median(values);
    }

    private static double[] values(List<Run> runs, Figure f) {
        return runs.stream()
                .map(r -> r.figures().get(f.key()))
                .filter(v -> v != null)
                .mapToDouble(v -> v * f.scale())
                .toArray();
    }

    private static String cell(double[] values, Figure f) {
        if (values.length == 0) {
            return "n/a";
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        String median = String.format(Locale.ROOT, f.format(), median(sorted));
        if (sorted[0] == sorted[sorted.length - 1]) {
            return median;
        }
        return median
                + String.format(
                        Locale.ROOT, " (" + f.format() + "–" + f.format() + ")", sorted[0], sorted[sorted.length - 1]);
    }

    /** The median; of an even count, the mean of the middle two. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Courier's median over the peer's, or n/a when either is missing or the peer's is 0. */
    static String ratio(Double courier, Double peer) {
        Double q = quotient(courier, peer);
        return q == null ? "n/a" : format(q);
    }

    /** {@code a / b}, or null when either is missing or {@code b} is 0. */
    static Double quotient(Double a, Double b) {
        return a == null || b == null || b == 0 ? null : a / b;
    }

    /** A ratio as the table and the chart write it: {@code 1.45×}. */
    static String format(double ratio) {
        return String.format(Locale.ROOT, "%.2f×", ratio);
    }
}
