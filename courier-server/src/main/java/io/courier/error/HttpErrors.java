package io.courier.error;

import io.courier.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/** The one error body of the REST API: {@code {"error":{"code":"...","message":"..."}}}. */
public final class HttpErrors {
    private HttpErrors() {}

    public static ByteBuf body(ByteBufAllocator alloc, ErrorCode code, String message) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeObjectFieldStart("error");
            gen.writeStringField("code", code.name());
            gen.writeStringField("message", message);
            gen.writeEndObject();
            gen.writeEndObject();
        });
    }

    public static FullHttpResponse response(ByteBufAllocator alloc, ErrorCode code, String message) {
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code.httpStatus()), body(alloc, code, message));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers()
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        return response;
    }
}
