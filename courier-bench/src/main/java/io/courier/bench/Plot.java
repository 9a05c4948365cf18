package io.courier.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Draws a run's {@link Timeline} as one SVG file: deliveries per second over time on top, the latency
 * percentiles of each second below on a logarithmic axis (they span microseconds to seconds). Plain
 * SVG 1.1 with no scripts or fonts to fetch, so a browser or an image viewer shows it as it is.
 */
final class Plot {
    private static final int WIDTH = 900;
    private static final int PANEL = 260;
    private static final int LEFT = 80;
    private static final int RIGHT = 140;
    private static final int TOP = 50;
    private static final int GAP = 60;
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f"};

    private Plot() {}

    static String svg(String title, List<Timeline.Point> points) {
        StringBuilder s = new StringBuilder(16_384);
        int height = TOP + 2 * PANEL + GAP + 50;
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
                .append(WIDTH)
                .append("\" height=\"")
                .append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n")
                .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(s, LEFT, 24, 15, escape(title));
        double end =
                points.isEmpty() ? 1 : Math.max(1, points.get(points.size() - 1).seconds());

        // Throughput, linear from 0.
        int y0 = TOP;
        double maxRate = points.stream()
                .mapToDouble(Timeline.Point::deliveriesPerSecond)
                .max()
                .orElse(1);
        double rateTop = niceCeiling(Math.max(1, maxRate));
        frame(s, y0, end, "deliveries/s");
        for (int i = 0; i <= 4; i++) {
            double v = rateTop * i / 4;
            double y = y0 + PANEL - PANEL * v / rateTop;
            gridLine(s, y, humanCount(v));
        }
        series(s, points, Timeline.Point::deliveriesPerSecond, end, v -> y0 + PANEL - PANEL * v / rateTop, COLORS[0]);
        legend(s, y0, new String[] {"deliveries/s"}, new String[] {COLORS[0]});

        // Latency, log10 of milliseconds.
        int y1 = TOP + PANEL + GAP;
        double maxMillis = points.stream().mapToLong(Timeline.Point::max).max().orElse(1) / 1000.0;
        double minMillis = points.stream()
                        .mapToLong(Timeline.Point::p50)
                        .filter(v -> v > 0)
                        .min()
                        .orElse(100)
                / 1000.0;
        int lowExp = (int) Math.floor(Math.log10(Math.max(0.001, Math.min(minMillis, 1))));
        int highExp = (int) Math.ceil(Math.log10(Math.max(maxMillis, 10)));
        frame(s, y1, end, "latency (ms, log)");
        ToDoubleFunction<Double> yOf = ms ->
                y1 + PANEL - PANEL * (Math.log10(Math.max(ms, Math.pow(10, lowExp))) - lowExp) / (highExp - lowExp);
        for (int e = lowExp; e <= highExp; e++) {
            double ms = Math.pow(10, e);
            gridLine(
                    s,
                    yOf.applyAsDouble(ms),
                    e >= 0
                            ? String.format(Locale.ROOT, "%.0f", ms)
                            : String.format(Locale.ROOT, "%." + (-e) + "f", ms));
        }
        String[] names = {"p50", "p99", "p99.9", "max"};
        List<ToDoubleFunction<Timeline.Point>> values =
                List.of(p -> p.p50() / 1000.0, p -> p.p99() / 1000.0, p -> p.p999() / 1000.0, p -> p.max() / 1000.0);
        for (int i = 0; i < names.length; i++) {
            ToDoubleFunction<Timeline.Point> value = values.get(i);
            List<Timeline.Point> sampled =
                    points.stream().filter(p -> p.samples() > 0).toList();
            series(s, sampled, value, end, v -> yOf.applyAsDouble(v), COLORS[i]);
        }
        legend(s, y1, names, COLORS);
        text(s, LEFT + (WIDTH - LEFT - RIGHT) / 2 - 60, height - 12, 12, "seconds since publishing started");
        s.append("</svg>\n");
        return s.toString();
    }

    private static void frame(StringBuilder s, int y0, double end, String label) {
        int plotWidth = WIDTH - LEFT - RIGHT;
        s.append(String.format(
                Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n",
                LEFT,
                y0,
                plotWidth,
                PANEL));
        text(s, 8, y0 - 8, 12, label);
        int ticks = 10;
        for (int i = 0; i <= ticks; i++) {
            double t = end * i / ticks;
            double x = LEFT + plotWidth * i / (double) ticks;
            s.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">" + (end >= 10 ? "%.0f" : "%.1f") + "</text>%n",
                    x,
                    y0 + PANEL + 16,
                    t));
        }
    }

    private static void gridLine(StringBuilder s, double y, String label) {
        s.append(String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                LEFT,
                y,
                WIDTH - RIGHT,
                y));
        s.append(String.format(
                Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 6, y + 4, label));
    }

    private static void series(
            StringBuilder s,
            List<Timeline.Point> points,
            ToDoubleFunction<Timeline.Point> value,
            double end,
            ToDoubleFunction<Double> yOf,
            String color) {
        if (points.isEmpty()) {
            return;
        }
        int plotWidth = WIDTH - LEFT - RIGHT;
        s.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"")
                .append(color)
                .append("\" points=\"");
        for (Timeline.Point p : points) {
            double x = LEFT + plotWidth * p.seconds() / end;
            s.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, yOf.applyAsDouble(value.applyAsDouble(p))));
        }
        s.append("\"/>\n");
    }

    private static void legend(StringBuilder s, int y0, String[] names, String[] colors) {
        int x = WIDTH - RIGHT + 14;
        for (int i = 0; i < names.length; i++) {
            int y = y0 + 14 + 18 * i;
            s.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    x,
                    y - 4,
                    x + 20,
                    y - 4,
                    colors[i]));
            text(s, x + 26, y, 12, names[i]);
        }
    }

    private static void text(StringBuilder s, double x, double y, int size, String text) {
        s.append(String.format(
                Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\">%s</text>%n", x, y, size, text));
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}. */
    static double niceCeiling(double v) {
        double power = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * power >= v) {
                return m * power;
            }
        }
        return 10 * power;
    }

    private static String humanCount(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
