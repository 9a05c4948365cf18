package io.courier.http;

import io.courier.error.ErrorCode;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Netty's aggregator, answering an oversized body with our JSON 413 instead of an empty one. The
 * connection is closed afterwards: the rest of the body may still be on its way.
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
        if (response instanceof FullHttpResponse r && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            FullHttpResponse json = HttpErrors.response(pipeline.channel().alloc(), ErrorCode.EBODY_TOO_LARGE,
                    "request body exceeds " + maxBodyBytes + " bytes");
            HttpUtil.setKeepAlive(json, false);
            return json;
        }
        return response;
    }

    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        return msg instanceof FullHttpResponse r && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()
                || super.closeAfterContinueResponse(msg);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = HttpErrors.response(ctx.alloc(), ErrorCode.EBODY_TOO_LARGE,
                "request body exceeds " + maxBodyBytes + " bytes");
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
