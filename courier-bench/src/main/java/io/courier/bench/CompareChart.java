package io.courier.bench;

import io.courier.bench.CompareTable.Figure;
import io.courier.bench.CompareTable.Run;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SVG bar chart over several {@code scripts/bench compare} directories (one scenario each): per
 * scenario and figure, Courier's median over NATS's, and {@code before}'s (Courier from another jar)
 * when the series ran it, as bars from the 1.0× line on a log axis.
 * <pre>
 *   java -cp courier-bench.jar io.courier.bench.CompareChart OUT.svg TITLE MODE DIR...
 * </pre>
 * MODE is {@code shared} or {@code pinned}. The runs are the directory's {@code TARGET-MODE-ROUND.json},
 * read and reduced to medians by {@link CompareTable}, so the chart and the table show the same
 * numbers. Plain SVG 1.1 like {@link Plot}: no scripts, no fonts to fetch. Main thread only.
 */
final class CompareChart {
    /** The target every bar is divided by. */
    static final String REFERENCE = "nats";

    /** The targets drawn, in bar order, when the directory has runs of them. */
    static final List<String> COMPARED = List.of("courier", "before");

    /** One panel of the chart: a figure of the table and its short name. */
    record Panel(Figure figure, String label) {}

    static final List<Panel> PANELS = List.of(
            new Panel(figure("deliveriesPerSecond"), "throughput"),
            new Panel(figure("latencyMicros.p99"), "p99 latency"),
            new Panel(figure("serverCpuMicrosPerDelivery"), "server CPU per delivery"),
            new Panel(figure("serverRssPeakKiB"), "server RSS, peak"));

    private static final Pattern RUN_FILE = Pattern.compile("([a-z0-9]+)-(shared|pinned)-([0-9]+)\\.json");
    private static final Pattern DIRECTORY = Pattern.compile("compare-(.+)-[0-9]{8}T[0-9]{6}Z");
    private static final String[] COLORS = {"#1f77b4", "#9a9a9a"};

    private static final int LABEL = 170;
    private static final int PAD = 48; // room for a value written past a bar that reaches the axis' end
    private static final int AXIS = 180;
    private static final int PANEL = PAD + AXIS + PAD;
    private static final int RIGHT = 12;
    private static final int WIDTH = LABEL + PANELS.size() * PANEL + RIGHT;
    private static final int TOP = 128;
    private static final int BAR = 14;
    private static final int BAR_GAP = 4;
    private static final int ROW_PAD = 9;

    /** One scenario: the runs of one mode, by target. */
    record Scenario(String name, Map<String, List<Run>> runs) {
        /** The target's median of the figure, or null when it has no run or no run has the figure. */
        Double median(String target, Figure f) {
            List<Run> r = runs.get(target);
            return r == null ? null : CompareTable.median(r, f);
        }

        /** The target's median over NATS's, or null (n/a) when either lacks the figure. */
        Double ratio(String target, Figure f) {
            return CompareTable.quotient(median(target, f), median(REFERENCE, f));
        }

        /** The targets that get bars: courier, and before when the series ran it. */
        List<String> compared() {
            return COMPARED.stream().filter(runs::containsKey).toList();
        }

        int runCount() {
            return runs.values().stream().mapToInt(List::size).max().orElse(0);
        }
    }

    private CompareChart() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: CompareChart OUT.svg TITLE MODE DIR...  (MODE: shared or pinned;"
                    + " DIR: a compare-SCENARIO-TIME directory of scripts/bench compare)");
            System.exit(2);
        }
        String mode = args[2];
        if (!mode.equals("shared") && !mode.equals("pinned")) {
            System.err.println("CompareChart: MODE: " + mode + " (expected: shared or pinned)");
            System.exit(2);
        }
        List<Scenario> scenarios = new ArrayList<>();
        for (String dir : Arrays.asList(args).subList(3, args.length)) {
            Path path = Path.of(dir);
            if (!Files.isDirectory(path)) {
                System.err.println("CompareChart: " + dir + " (expected: a directory of scripts/bench compare)");
                System.exit(2);
            }
            Scenario s = read(path, mode);
            if (!s.runs().containsKey(REFERENCE) || s.compared().isEmpty()) {
                System.err.println(
                        "CompareChart: warning: " + dir + " has " + s.runs().keySet() + " " + mode + " runs (expected: "
                                + REFERENCE + " and courier or before); its bars are n/a");
            }
            scenarios.add(s);
        }
        Path out = Path.of(args[0]);
        Files.writeString(out, svg(args[1], mode, scenarios));
        System.out.println("chart: " + out + " (" + scenarios.size() + " scenario(s), " + mode + ")");
    }

    /** The runs of one mode in a compare directory, named after the scenario. */
    static Scenario read(Path dir, String mode) throws IOException {
        Map<String, List<Run>> runs = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path file : files) {
                Matcher m = RUN_FILE.matcher(file.getFileName().toString());
                if (m.matches() && m.group(2).equals(mode)) {
                    runs.computeIfAbsent(m.group(1), t -> new ArrayList<>())
                            .add(new Run(mode, m.group(1), CompareTable.read(file)));
                }
            }
        }
        return new Scenario(name(dir), runs);
    }

    /**
     * The scenario's name: from the directory's name ({@code compare-SCENARIO-TIME}), else the first
     * word of its table's title, else the directory's name as it is.
     */
    static String name(Path dir) throws IOException {
        String base = dir.toAbsolutePath().normalize().getFileName().toString();
        Matcher m = DIRECTORY.matcher(base);
        if (m.matches()) {
            return m.group(1);
        }
        Path table = dir.resolve("table.md");
        if (Files.isRegularFile(table)) {
            Optional<String> title =
                    Files.readAllLines(table).stream().filter(l -> !l.isBlank()).findFirst();
            if (title.isPresent()) {
                return title.get().trim().split("[ ,]", 2)[0];
            }
        }
        return base;
    }

    static String svg(String title, String mode, List<Scenario> scenarios) {
        int[] axis = axis(scenarios);
        int lowExp = axis[0];
        int highExp = axis[1];
        int rowsHeight = scenarios.stream().mapToInt(CompareChart::rowHeight).sum();
        int bottom = TOP + rowsHeight;
        int height = bottom + 80;

        StringBuilder s = new StringBuilder(16_384);
        s.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n")
                .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(s, 10, 24, 15, "start", "#000", Plot.escape(title));
        text(
                s,
                10,
                44,
                12,
                "start",
                "#333",
                "ratio to " + REFERENCE + " (each target's median over its runs ÷ " + REFERENCE + "'s), "
                        + (mode.equals("pinned")
                                ? "pinned (server on core 0, client on core 1)"
                                : "shared cores (unpinned)")
                        + ", log scale");
        legend(s, scenarios);

        // Row backgrounds first, so that grid lines and bars lie on top.
        int y = TOP;
        for (int i = 0; i < scenarios.size(); i++) {
            int h = rowHeight(scenarios.get(i));
            if (i % 2 == 0) {
                s.append(String.format(
                        Locale.ROOT,
                        "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\"/>%n",
                        y,
                        WIDTH,
                        h));
            }
            y += h;
        }
        for (int p = 0; p < PANELS.size(); p++) {
            panelFrame(s, p, lowExp, highExp, bottom);
        }

        y = TOP;
        for (Scenario scenario : scenarios) {
            int h = rowHeight(scenario);
            text(s, 10, y + h / 2.0 - 2, 12, "start", "#000", Plot.escape(scenario.name()));
            text(
                    s,
                    10,
                    y + h / 2.0 + 12,
                    10,
                    "start",
                    "#666",
                    scenario.runCount() == 1 ? "1 run per target" : scenario.runCount() + " runs per target");
            for (int p = 0; p < PANELS.size(); p++) {
                bars(s, p, scenario, y, lowExp, highExp);
            }
            y += h;
        }

        int noteY = bottom + 40;
        text(
                s,
                10,
                noteY,
                11,
                "start",
                "#333",
                "Throughput: higher is better (a bar to the right of 1.0× is faster than " + REFERENCE
                        + "). p99 latency, server CPU per delivery, peak RSS: lower is better (a bar to the left"
                        + " of 1.0× is better).");
        text(
                s,
                10,
                noteY + 16,
                11,
                "start",
                "#333",
                "The dark line is 1.0× (as " + REFERENCE + "); n/a: the runs lack the figure. "
                        + "Medians as in each directory's table.md.");
        s.append("</svg>\n");
        return s.toString();
    }

    /** The axis' decades: 0.1× to 10× at least, wider when a ratio lies outside. */
    static int[] axis(List<Scenario> scenarios) {
        int low = -1;
        int high = 1;
        for (Scenario scenario : scenarios) {
            for (String target : scenario.compared()) {
                for (Panel panel : PANELS) {
                    Double r = scenario.ratio(target, panel.figure());
                    if (r != null && r > 0) {
                        low = Math.min(low, (int) Math.floor(Math.log10(r)));
                        high = Math.max(high, (int) Math.ceil(Math.log10(r)));
                    }
                }
            }
        }
        return new int[] {low, high};
    }

    private static int rowHeight(Scenario scenario) {
        int bars = Math.max(1, scenario.compared().size());
        return 2 * ROW_PAD + bars * BAR + (bars - 1) * BAR_GAP + 6;
    }

    private static double x(int panel, double ratio, int lowExp, int highExp) {
        double log = Math.log10(Math.max(ratio, Math.pow(10, lowExp)));
        return LABEL + panel * PANEL + PAD + AXIS * (log - lowExp) / (highExp - lowExp);
    }

    private static void panelFrame(StringBuilder s, int p, int lowExp, int highExp, int bottom) {
        Panel panel = PANELS.get(p);
        double center = LABEL + p * PANEL + PANEL / 2.0;
        text(s, center, TOP - 46, 13, "middle", "#000", panel.label());
        text(
                s,
                center,
                TOP - 30,
                11,
                "middle",
                "#555",
                panel.figure().higherIsBetter() ? "← worse · higher is better →" : "← lower is better · worse →");
        for (int e = lowExp; e <= highExp; e++) {
            for (int m : new int[] {1, 2, 5}) {
                double ratio = m * Math.pow(10, e);
                if (e == highExp && m > 1) {
                    break;
                }
                double x = x(p, ratio, lowExp, highExp);
                boolean one = e == 0 && m == 1;
                s.append(String.format(
                        Locale.ROOT,
                        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"/>%n",
                        x,
                        TOP - 4,
                        x,
                        bottom,
                        one ? "#222" : "#d0d0d0",
                        one ? "1.5" : "1"));
                // 2× and 5× labelled only where a decade is wide enough for three labels side by side
                if (m == 1 || AXIS / (highExp - lowExp) >= 80) {
                    String label = tick(ratio);
                    text(s, x, TOP - 10, 10, "middle", "#555", label);
                    text(s, x, bottom + 14, 10, "middle", "#555", label);
                }
            }
        }
    }

    private static void bars(StringBuilder s, int p, Scenario scenario, int rowTop, int lowExp, int highExp) {
        Figure figure = PANELS.get(p).figure();
        List<String> targets = scenario.compared();
        double one = x(p, 1, lowExp, highExp);
        if (targets.isEmpty()) {
            text(s, one + 4, rowTop + ROW_PAD + BAR - 3, 11, "start", "#888", "n/a");
            return;
        }
        for (int i = 0; i < targets.size(); i++) {
            String target = targets.get(i);
            int y = rowTop + ROW_PAD + 3 + i * (BAR + BAR_GAP);
            Double ratio = scenario.ratio(target, figure);
            if (ratio == null) {
                text(s, one + 4, y + BAR - 3, 11, "start", "#888", "n/a");
                continue;
            }
            double end = x(p, ratio, lowExp, highExp);
            s.append(String.format(
                    Locale.ROOT,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s: %s ÷ %s</title></rect>%n",
                    Math.min(one, end),
                    y,
                    Math.max(1, Math.abs(end - one)),
                    BAR,
                    COLORS[COMPARED.indexOf(target)],
                    Plot.escape(scenario.name() + ", " + PANELS.get(p).label()),
                    target,
                    REFERENCE));
            boolean right = ratio >= 1;
            text(
                    s,
                    right ? end + 4 : end - 4,
                    y + BAR - 3,
                    11,
                    right ? "start" : "end",
                    "#000",
                    CompareTable.format(ratio));
        }
    }

    private static void legend(StringBuilder s, List<Scenario> scenarios) {
        List<String> present = COMPARED.stream()
                .filter(t -> scenarios.stream().anyMatch(sc -> sc.runs().containsKey(t)))
                .toList();
        int x = 10;
        int y = 66;
        for (String target : present) {
            s.append(String.format(
                    Locale.ROOT,
                    "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/>%n",
                    x,
                    y - 9,
                    COLORS[COMPARED.indexOf(target)]));
            String label = target.equals("before")
                    ? "before ÷ " + REFERENCE + " (Courier from BEFORE_JAR)"
                    : target + " ÷ " + REFERENCE;
            text(s, x + 20, y, 12, "start", "#000", label);
            x += 30 + 8 * label.length();
        }
    }

    private static String tick(double ratio) {
        String digits = ratio >= 1
                ? String.format(Locale.ROOT, "%.0f", ratio)
                : String.format(Locale.ROOT, "%." + (int) Math.ceil(-Math.log10(ratio) - 1e-9) + "f", ratio);
        return digits + "×";
    }

    private static void text(StringBuilder s, double x, double y, int size, String anchor, String fill, String text) {
        s.append(String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\">%s</text>%n",
                x,
                y,
                size,
                anchor,
                fill,
                text));
    }

    private static Figure figure(String key) {
        return CompareTable.FIGURES.stream()
                .filter(f -> f.key().equals(key))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(key + " (expected: a key of CompareTable.FIGURES)"));
    }
}
