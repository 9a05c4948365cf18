package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

class PlotTest {

    @Test
    void drawsOneThroughputAndFourLatencyLinesWithAPointPerSecond() throws Exception {
        Timeline timeline = new Timeline();
        for (int s = 1; s <= 20; s++) {
            Histogram h = new Histogram(3);
            h.recordValue(1_000L * s); // 1..20 ms
            h.recordValue(50_000);
            timeline.add(s, 1_500_000 + s, 150, h, 10_000);
        }
        String svg = Plot.svg("fanout-10k <test> & co", timeline.points());
        Document doc =
                DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
        NodeList lines = doc.getElementsByTagName("polyline");
        assertEquals(5, lines.getLength(), "deliveries/s, p50, p99, p99.9, max");
        for (int i = 0; i < lines.getLength(); i++) {
            String points = lines.item(i)
                    .getAttributes()
                    .getNamedItem("points")
                    .getNodeValue()
                    .trim();
            assertEquals(20, points.split(" ").length);
        }
        assertTrue(svg.contains("fanout-10k &lt;test&gt; &amp; co"), "the title is escaped");
        assertTrue(svg.contains(">2.0M<"), "throughput axis reaches a round value above 1.5M: " + svg);
    }

    @Test
    void niceCeilingIsOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(2_000_000, Plot.niceCeiling(1_500_001));
        assertEquals(5, Plot.niceCeiling(3));
        assertEquals(10, Plot.niceCeiling(10));
        assertEquals(100, Plot.niceCeiling(51));
    }

    @Test
    void timelineKeepsPercentilesOfEachSecondApart() {
        Timeline timeline = new Timeline();
        Histogram quiet = new Histogram(3);
        quiet.recordValue(100);
        timeline.add(1, 10, 1, quiet, 5);
        timeline.add(2, 10, 1, new Histogram(3), 5);
        List<Timeline.Point> points = timeline.points();
        assertEquals(100, points.get(0).p99());
        assertEquals(-1, points.get(1).p99(), "a second without samples has no percentiles");
    }
}
