package io.courier.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads series values out of a Prometheus text scrape, for assertions. */
public final class PrometheusText {
    private PrometheusText() {}

    /** The value of one series, e.g. {@code courier_deliveries_total} or {@code x{a="b"}}; 0 when absent. */
    public static double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$")
                .matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** The sum of every series whose name and labels match {@code seriesRegex}. */
    public static double sum(String scrape, String seriesRegex) {
        Matcher m = Pattern.compile("(?m)^" + seriesRegex + " ([0-9.eE+-]+)$").matcher(scrape);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }
}
