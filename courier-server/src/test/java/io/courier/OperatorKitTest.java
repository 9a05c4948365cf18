package io.courier;

import static io.courier.testing.JsonTree.asList;
import static io.courier.testing.JsonTree.asObject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.OperatorKit;
import io.courier.testing.Prometheus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator kit as shipped, checked by Prometheus's own {@code promtool} (config, rules, rule unit
 * tests) and, for the Grafana dashboard (Grafana is not packaged here), by its JSON structure. That
 * every name and expression works against what Courier exposes is {@code PrometheusIT}'s job.
 */
class OperatorKitTest {
    private static final Path CONFIG = Prometheus.CONFIG_DIR;

    private static void assertPromtool(Prometheus.Result r, String what) {
        assertEquals(0, r.exitCode(), what + ":\n" + r.output());
        assertTrue(r.output().contains("SUCCESS"), what + ":\n" + r.output());
    }

    @Test
    void shippedPrometheusConfigLoads() {
        assertPromtool(Prometheus.promtool(CONFIG, null, "check", "config", "prometheus.yml"), "check config");
    }

    @Test
    void bearerTokenVariantLoads(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("courier-metrics-token"), "scrape-secret\n");
        String derived = Prometheus.derive(
                Files.readString(Prometheus.SHIPPED_CONFIG),
                Duration.ofSeconds(15),
                List.of("courier-1.example.com:8883"),
                token);
        assertTrue(
                derived.contains("    authorization:\n      type: Bearer\n      credentials_file: " + token), derived);
        Files.writeString(dir.resolve("prometheus.yml"), derived);
        Files.copy(Prometheus.SHIPPED_RULES, dir.resolve("courier-alerts.yml"));
        assertPromtool(Prometheus.promtool(dir, null, "check", "config", "prometheus.yml"), "check config (token)");
    }

    @Test
    void alertRulesLoad() {
        Prometheus.Result r = Prometheus.promtool(CONFIG, null, "check", "rules", "courier-alerts.yml");
        assertPromtool(r, "check rules");
        int alerts = OperatorKit.alerts().size();
        assertTrue(r.output().contains("SUCCESS: " + alerts + " rules found"), r.output());
    }

    @Test
    void alertRuleUnitTestsPass() {
        assertPromtool(Prometheus.promtool(CONFIG, null, "test", "rules", "courier-alerts.test.yml"), "test rules");
    }

    /** Each alert: a test where it fires and one where it must not, a summary, and a runbook line. */
    @Test
    void everyAlertIsTestedBothWaysAndHasARunbookLine() throws Exception {
        String tests = Files.readString(Prometheus.SHIPPED_RULE_TESTS);
        String rules = Files.readString(Prometheus.SHIPPED_RULES);
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String> problems = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (OperatorKit.Alert alert : OperatorKit.alerts()) {
            String n = Pattern.quote(alert.name());
            if (!names.add(alert.name())) {
                problems.add(alert.name() + " is defined twice");
            }
            if (!Pattern.compile("alertname: " + n + ", exp_alerts: \\[\\]")
                    .matcher(tests)
                    .find()) {
                problems.add(alert.name() + " has no test where it must not fire");
            }
            if (!Pattern.compile("alertname: " + n + "\\n\\s+exp_alerts:\\n\\s+- exp_labels:")
                    .matcher(tests)
                    .find()) {
                problems.add(alert.name() + " has no test where it fires");
            }
            if (!Pattern.compile("- alert: " + n + "\\n(\\s+\\w+:.*\\n)*?\\s+summary: \"[^\"]+\"")
                    .matcher(rules)
                    .find()) {
                problems.add(alert.name() + " has no summary");
            }
            if (!Pattern.compile("(?m)^\\| `" + n + "` \\|.+\\|.+\\|$")
                    .matcher(readme)
                    .find()) {
                problems.add(alert.name() + " has no runbook line in the README's alert table");
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(names.size() >= 14, "the four original alerts, the hardening limits and the cluster: " + names);
    }

    /**
     * The dashboard imports into Grafana: a datasource variable that every panel uses, an instance
     * selector every query applies, unique ids, panels inside the 24-column grid, queries with refIds.
     */
    @Test
    void grafanaDashboardIsWellFormed() {
        Map<String, Object> d = OperatorKit.dashboard();
        assertEquals("courier", d.get("uid"));
        assertNotNull(d.get("title"));
        assertTrue(d.get("schemaVersion") instanceof Double v && v >= 36, "schemaVersion: " + d.get("schemaVersion"));
        assertEquals(null, d.get("id"), "an imported dashboard gets its id from Grafana");

        List<Object> variables =
                asList(asObject(d.get("templating"), "templating").get("list"), "templating.list");
        Map<String, Map<String, Object>> byName = new java.util.HashMap<>();
        variables.forEach(v -> byName.put((String) asObject(v, "variable").get("name"), asObject(v, "variable")));
        Map<String, Object> datasource = byName.get("datasource");
        assertNotNull(datasource, "a datasource variable");
        assertEquals("datasource", datasource.get("type"));
        assertEquals("prometheus", datasource.get("query"));
        Map<String, Object> instance = byName.get("instance");
        assertNotNull(instance, "an instance selector");
        assertEquals("query", instance.get("type"));
        assertEquals(Boolean.TRUE, instance.get("multi"));
        assertEquals(Boolean.TRUE, instance.get("includeAll"));
        assertEquals(
                "${datasource}",
                asObject(instance.get("datasource"), "instance.datasource").get("uid"));
        String variableQuery =
                (String) asObject(instance.get("query"), "instance.query").get("query");
        assertTrue(variableQuery.matches("label_values\\(courier_[a-z_]+, instance\\)"), variableQuery);

        List<String> problems = new ArrayList<>();
        Set<Double> ids = new HashSet<>();
        int queries = 0;
        for (Object o : asList(d.get("panels"), "panels")) {
            Map<String, Object> panel = asObject(o, "panel");
            String title = (String) panel.get("title");
            if (title == null || title.isBlank()) {
                problems.add("a panel without a title: " + panel.get("id"));
            }
            if (!(panel.get("id") instanceof Double id) || !ids.add(id)) {
                problems.add(title + ": id missing or repeated");
            }
            Map<String, Object> grid = asObject(panel.get("gridPos"), title + ".gridPos");
            double x = (Double) grid.get("x");
            double w = (Double) grid.get("w");
            if (x < 0 || w <= 0 || x + w > 24 || (Double) grid.get("h") <= 0 || (Double) grid.get("y") < 0) {
                problems.add(title + ": outside the 24-column grid: " + grid);
            }
            if ("row".equals(panel.get("type"))) {
                continue;
            }
            if (!"${datasource}"
                    .equals(asObject(panel.get("datasource"), title + ".datasource")
                            .get("uid"))) {
                problems.add(title + ": datasource is not ${datasource}");
            }
            Set<String> refIds = new HashSet<>();
            List<Object> targets = asList(panel.get("targets"), title + ".targets");
            if (targets.isEmpty()) {
                problems.add(title + ": no query");
            }
            for (Object t : targets) {
                Map<String, Object> target = asObject(t, title + " target");
                queries++;
                String expr = (String) target.get("expr");
                if (!refIds.add(String.valueOf(target.get("refId")))) {
                    problems.add(title + ": refId missing or repeated");
                }
                if (!"${datasource}"
                        .equals(asObject(target.get("datasource"), title + " target")
                                .get("uid"))) {
                    problems.add(title + ": a query's datasource is not ${datasource}");
                }
                List<String> selectors = OperatorKit.metricSelectors(expr);
                int filtered = expr.split(Pattern.quote("instance=~\"$instance\""), -1).length - 1;
                if (selectors.isEmpty() || filtered != selectors.size()) {
                    problems.add(title + ": every selector must apply instance=~\"$instance\": " + expr);
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(queries >= 20, "queries: " + queries);
        assertFalse(OperatorKit.dashboardQueries().isEmpty());
    }

    @Test
    void metricSelectorsAreReadOutOfPromQl() {
        assertEquals(
                List.of("courier_a_bucket", "courier_b"),
                OperatorKit.metricSelectors("histogram_quantile(0.99, sum by (instance, le) "
                        + "(rate(courier_a_bucket{x=\"y{z}\"}[$__rate_interval]))) > 0.5 or on (instance) "
                        + "increase(courier_b[1h] offset 15m) > bool 0"));
        assertEquals(List.of("up"), OperatorKit.metricSelectors("up{job=\"courier\"} == 0"));
    }
}
