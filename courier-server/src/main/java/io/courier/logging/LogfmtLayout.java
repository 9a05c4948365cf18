package io.courier.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.slf4j.event.KeyValuePair;

/**
 * One logfmt line per event: {@code ts=... level=WARN logger=SessionHandler thread=... msg="..." key="value" ...}.
 *
 * <p>Replaces logback's pattern ({@code %replace} on {@code %msg}, {@code %kvp{DOUBLE}}), which escaped
 * quotes in the message only: an {@code action} holding a newline wrote a second, fake
 * {@code level=ERROR} line, and an audience {@code X" level=ERROR forged="1} added fields (issue 10).
 * Here the message and every key-value pair go through {@link LogText}. A throwable is written as one
 * more field, {@code exception="..."}, its whole stack trace escaped onto the event's line: client text
 * in an exception message cannot forge a line, one event stays one line for journald and log shippers,
 * and {@code printf '%b'} on the value restores the multi-line trace. Any thread; stateless.
 */
public final class LogfmtLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(256);
        line.append("ts=").append(TIMESTAMP.format(Instant.ofEpochMilli(event.getTimeStamp())));
        line.append(" level=").append(event.getLevel());
        line.append(" logger=");
        LogText.appendBareOrQuoted(line, simpleName(event.getLoggerName()));
        line.append(" thread=");
        LogText.appendBareOrQuoted(line, String.valueOf(event.getThreadName()));
        line.append(" msg=");
        LogText.appendQuoted(line, String.valueOf(event.getFormattedMessage()));
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair pair : pairs) {
                line.append(' ');
                LogText.appendKey(line, pair.key);
                line.append('=');
                LogText.appendQuoted(line, String.valueOf(pair.value));
            }
        }
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(" exception=");
            LogText.appendQuoted(line, ThrowableProxyUtil.asString(thrown).stripTrailing());
        }
        return line.append('\n').toString();
    }

    private static String simpleName(String logger) {
        return logger == null ? "" : logger.substring(logger.lastIndexOf('.') + 1);
    }
}
