package io.courier.http;

import io.courier.error.ErrorCode;
import io.courier.error.HttpErrors;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Netty's aggregator, answering an oversized body with our JSON 413 and an unsupported
 * {@code Expect} with our JSON 417 instead of empty ones. After a 413 the connection is closed: the
 * rest of the body may still be on its way.
 */
public final class BodyLimitAggregator extends HttpObjectAggregator {
    private final int maxBodyBytes;

    public BodyLimitAggregator(int maxBodyBytes) {
        super(maxBodyBytes);
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * {@code Expect: 100-continue} with a declared length over the limit: Netty answers with its own
     * empty 413; answer with ours, and end the connection since the client may send the body anyway.
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse r
                && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            r.release();
            FullHttpResponse json = HttpErrors.response(
                    pipeline.channel().alloc(),
                    ErrorCode.EBODY_TOO_LARGE,
                    "request body exceeds " + maxBodyBytes + " bytes");
            HttpUtil.setKeepAlive(json, false);
            return json;
        }
        if (response instanceof FullHttpResponse r
                && r.status().code() == HttpResponseStatus.EXPECTATION_FAILED.code()) {
            // RFC 9110 section 10.1.1: an expectation other than 100-continue MAY be answered 417.
            // The body is ignored (the aggregator discards it) and the connection stays usable.
            r.release();
            return HttpErrors.response(
                    pipeline.channel().alloc(),
                    ErrorCode.EEXPECTATION_FAILED,
                    "unsupported expectation: " + start.headers().get(HttpHeaderNames.EXPECT));
        }
        return response;
    }

    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        return msg instanceof FullHttpResponse r
                        && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()
                || super.closeAfterContinueResponse(msg);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = HttpErrors.response(
                ctx.alloc(), ErrorCode.EBODY_TOO_LARGE, "request body exceeds " + maxBodyBytes + " bytes");
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
