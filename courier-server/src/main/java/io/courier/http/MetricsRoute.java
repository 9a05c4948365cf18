package io.courier.http;

import io.courier.error.ErrorCode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * {@code GET /metrics}: the Prometheus text format, or OpenMetrics when the scraper asks for it in
 * {@code Accept}. Optionally guarded by a static bearer token ({@code courier.metrics.token}).
 * Scraping reads {@code /proc} (process CPU, file descriptors), which is file I/O, so it runs on its
 * own thread rather than the event loop.
 */
public final class MetricsRoute {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final Optional<byte[]> token;
    private final ExecutorService scraper = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "courier-metrics");
        t.setDaemon(true);
        return t;
    });

    public MetricsRoute(PrometheusMeterRegistry registry, Optional<String> token) {
        this.registry = registry;
        this.token = token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8));
    }

    public void register(Router router) {
        router.get("/metrics", false, this::scrape);
    }

    private void scrape(Exchange ex) {
        if (token.isPresent()) {
            String given = ex.request().headers().get(HttpHeaderNames.AUTHORIZATION, "");
            // Constant-time comparison: the token is a shared secret.
            if (!MessageDigest.isEqual(token.get(), given.getBytes(StandardCharsets.UTF_8))) {
                ex.fail(ErrorCode.ETOKEN_INVALID, "metrics need 'Authorization: Bearer <courier.metrics.token>'");
                return;
            }
        }
        String accept = ex.request().headers().get(HttpHeaderNames.ACCEPT, "");
        String contentType = accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
        try {
            scraper.execute(() -> write(ex, contentType));
        } catch (RejectedExecutionException e) {
            ex.fail(ErrorCode.EUNAVAILABLE, "server is stopping");
        }
    }

    private void write(Exchange ex, String contentType) {
        ByteBuf body = ex.ctx().alloc().buffer(16 * 1024);
        try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
            registry.scrape(out, contentType);
        } catch (IOException | RuntimeException e) {
            body.release();
            ex.fail(e);
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        ex.send(response);
    }

    public void close() {
        scraper.shutdownNow();
    }
}
