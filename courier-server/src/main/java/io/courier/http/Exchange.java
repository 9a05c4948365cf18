package io.courier.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.auth.Principal;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.courier.json.Json;
import io.courier.metrics.CourierMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP request being answered. A route reads the request on the event loop (the body is valid
 * only until {@link Route#handle} returns) and answers exactly once, from any thread.
 */
public final class Exchange {
    private static final Logger log = LoggerFactory.getLogger(Exchange.class);

    private final ChannelHandlerContext ctx;
    private final FullHttpRequest request;
    private volatile boolean keepAlive;
    private final AtomicBoolean answered = new AtomicBoolean();
    private final CourierMetrics metrics;
    private final long startNanos = System.nanoTime();
    /** The matched route's path (a bounded metric label), or "unmatched". */
    private volatile String route = "unmatched";
    /** Wrap successful JSON answers in {"data": …} (courier.api.envelope=data on a /v1 route). */
    private volatile boolean envelope;

    private Principal principal;
    private static final byte[] DATA_OPEN = "{\"data\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA_CLOSE = "}".getBytes(StandardCharsets.US_ASCII);

    Exchange(ChannelHandlerContext ctx, FullHttpRequest request, CourierMetrics metrics) {
        this.ctx = ctx;
        this.request = request;
        this.metrics = metrics;
        this.keepAlive = HttpUtil.isKeepAlive(request);
    }

    void closeAfterAnswer() {
        keepAlive = false;
    }

    void route(String path) {
        this.route = path;
    }

    void envelope(boolean envelope) {
        this.envelope = envelope;
    }

    public FullHttpRequest request() {
        return request;
    }

    public ChannelHandlerContext ctx() {
        return ctx;
    }

    /** The verified bearer of this request; set by the router for authenticated routes. */
    public Principal principal() {
        return principal;
    }

    void principal(Principal principal) {
        this.principal = principal;
    }

    /** The request body parsed as a flat JSON object (see {@link #readFlatObject}). */
    public Map<String, String> jsonBody() {
        return readFlatObject(request.content());
    }

    /**
     * Reads a request body that must be one JSON object and returns its top-level string fields
     * (other values are kept as {@code null} so a wrong type can be reported per field).
     * Malformed JSON or a non-object becomes EBODY_INVALID.
     */
    private static Map<String, String> readFlatObject(ByteBuf body) {
        try (JsonParser p = Json.FACTORY.createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "request body must be a JSON object");
            }
            Map<String, String> fields = new HashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                fields.put(name, value == JsonToken.VALUE_STRING ? p.getText() : null);
                p.skipChildren();
            }
            if (p.nextToken() != null) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "unexpected content after the JSON object");
            }
            return fields;
        } catch (IOException e) {
            throw new CourierException(ErrorCode.EBODY_INVALID, "malformed JSON: " + Json.describe(e));
        }
    }

    public void respond(HttpResponseStatus status, Json.Writer body) {
        respond(status, Json.write(ctx.alloc(), body));
    }

    /** Sends {@code json} (ownership passes here) with {@code status}, in the envelope when configured. */
    public void respond(HttpResponseStatus status, ByteBuf json) {
        respond(status, json, Map.of());
    }

    /**
     * Sends {@code json} (ownership passes here) with {@code status} and extra response headers, in
     * the envelope when configured.
     */
    public void respond(HttpResponseStatus status, ByteBuf json, Map<String, String> headers) {
        ByteBuf content = json;
        if (wrapped(status)) {
            // The answer's bytes stay as they are (the hook echoes its request byte for byte).
            content = ctx.alloc()
                    .compositeBuffer(3)
                    .addComponents(true, Unpooled.wrappedBuffer(DATA_OPEN), json, Unpooled.wrappedBuffer(DATA_CLOSE));
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        headers.forEach(response.headers()::set);
        send(response);
    }

    /**
     * The original Courier wrapped successful answers only; its client reads {@code .data} from those
     * and the error object from failures, which {@link #fail} never wraps.
     */
    private boolean wrapped(HttpResponseStatus status) {
        return envelope && status.codeClass() == HttpStatusClass.SUCCESS;
    }

    public void fail(ErrorCode code, String message) {
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), code, message);
        if (code == ErrorCode.ETOKEN_INVALID) {
            // RFC 6750 section 3: a 401 for a bearer-protected resource names the scheme.
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
        }
        send(response, code);
    }

    /** Answers with the error a failed future or route carried; unexpected ones become 500. */
    public void fail(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof CourierException ce) {
            fail(ce.code(), ce.getMessage());
        } else {
            log.error("request failed: {} {}", request.method(), request.uri().replaceAll("\\?.*", ""), cause);
            fail(ErrorCode.EINTERNAL, "internal error");
        }
    }

    /** Completes with the answer of {@code ok} or the failure, on whichever thread finishes. */
    public <T> void answer(CompletableFuture<T> future, Consumer<T> ok) {
        future.whenComplete((value, error) -> {
            if (error != null) {
                fail(error);
                return;
            }
            try {
                ok.accept(value);
            } catch (RuntimeException e) {
                fail(e);
            }
        });
    }

    void send(FullHttpResponse response) {
        send(response, null);
    }

    /** @param error the error code the response carries, null for a success (a metric label) */
    void send(FullHttpResponse response, ErrorCode error) {
        if (!answered.compareAndSet(false, true)) {
            response.release();
            throw new IllegalStateException("answered twice: " + request.method() + " " + request.uri());
        }
        metrics.httpRequest(route, request.method(), response.status().code(), error, System.nanoTime() - startNanos);
        HttpUtil.setContentLength(response, response.content().readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        var channel = ctx.channel();
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        } else {
            // The router paused reads while this request was open, so responses keep request order.
            written.addListener(f -> channel.config().setAutoRead(true));
        }
    }
}
