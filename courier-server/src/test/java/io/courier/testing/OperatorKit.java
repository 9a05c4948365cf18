package io.courier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the shipped operator kit (see {@link Prometheus} for the paths): the alert rules with their
 * expressions, the Grafana dashboard's queries, and the metric names a PromQL expression selects.
 * No YAML parser here: the rule file keeps each expression on one {@code expr:} line (it says so),
 * and {@link #alerts()} fails when an alert has none.
 */
public final class OperatorKit {
    private static final Pattern ALERT = Pattern.compile("^\\s+- alert: (\\S+)\\s*$");
    private static final Pattern EXPR = Pattern.compile("^\\s+expr: (.+)$");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.:$])([a-zA-Z_:][\\w:]*)(\\s*\\()?");
    private static final Set<String> KEYWORDS =
            Set.of("and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "inf", "nan");

    private OperatorKit() {}

    public record Alert(String name, String expr) {}

    /** One query of a dashboard panel (or the variable query, panel {@code $name}). */
    public record Query(String panel, String expr) {}

    public static List<Alert> alerts() {
        List<Alert> alerts = new ArrayList<>();
        String name = null;
        for (String line : read(Prometheus.SHIPPED_RULES).lines().toList()) {
            Matcher a = ALERT.matcher(line);
            Matcher e = EXPR.matcher(line);
            if (a.matches()) {
                if (name != null) {
                    throw new AssertionError(Prometheus.SHIPPED_RULES + ": alert " + name + " has no one-line expr");
                }
                name = a.group(1);
            } else if (e.matches()) {
                if (name == null || e.group(1).equals("|") || e.group(1).equals(">")) {
                    throw new AssertionError(Prometheus.SHIPPED_RULES + ": an expr must be one line after its alert");
                }
                alerts.add(new Alert(name, e.group(1).trim()));
                name = null;
            }
        }
        if (name != null) {
            throw new AssertionError(Prometheus.SHIPPED_RULES + ": alert " + name + " has no one-line expr");
        }
        return alerts;
    }

    public static Map<String, Object> dashboard() {
        return JsonTree.object(read(Prometheus.SHIPPED_DASHBOARD));
    }

    /** Every panel's query expressions, rows' nested panels included. */
    public static List<Query> dashboardQueries() {
        List<Query> queries = new ArrayList<>();
        collect(JsonTree.asList(dashboard().get("panels"), "panels"), queries);
        return queries;
    }

    private static void collect(List<Object> panels, List<Query> into) {
        for (Object p : panels) {
            Map<String, Object> panel = JsonTree.asObject(p, "panel");
            String title = String.valueOf(panel.get("title"));
            if (panel.get("panels") != null) {
                collect(JsonTree.asList(panel.get("panels"), title + ".panels"), into);
            }
            if (panel.get("targets") == null) {
                continue;
            }
            for (Object t : JsonTree.asList(panel.get("targets"), title + ".targets")) {
                into.add(new Query(
                        title,
                        String.valueOf(JsonTree.asObject(t, title + " target").get("expr"))));
            }
        }
    }

    /**
     * The metric names {@code promql} selects, in order of appearance (repeats kept): what is left
     * once strings, label matchers, ranges, groupings, functions, keywords and numbers are removed.
     */
    public static List<String> metricSelectors(String promql) {
        String s = STRING.matcher(promql).replaceAll("\"\"");
        s = s.replaceAll("\\{[^}]*\\}", " ").replaceAll("\\[[^\\]]*\\]", " ");
        s = GROUPING.matcher(s).replaceAll(" ");
        List<String> names = new ArrayList<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            if (m.group(2) == null && !KEYWORDS.contains(m.group(1).toLowerCase())) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** The distinct metric names of {@code expressions}. */
    public static Set<String> metricNames(List<String> expressions) {
        Set<String> names = new LinkedHashSet<>();
        expressions.forEach(e -> names.addAll(metricSelectors(e)));
        return names;
    }

    private static String read(java.nio.file.Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
