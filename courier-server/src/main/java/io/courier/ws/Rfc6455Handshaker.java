package io.courier.ws;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker13;

/**
 * The RFC 6455 handshake, built directly rather than by Netty's handshaker factory: the factory also
 * speaks the obsolete Hixie-75/76 drafts (which take unmasked frames) and answers some malformed
 * requests with nothing. {@link WebSocketUpgradeHandler} checks the request headers before using it.
 *
 * <p>Its frame decoder leaves close frames unchecked: Netty's check fails a close frame with a bad
 * code or reason by dropping the TCP connection, and lets codes from 5000 up through to be echoed.
 * {@link SessionHandler} checks them instead and answers 1002.
 */
final class Rfc6455Handshaker extends WebSocketServerHandshaker13 {

    Rfc6455Handshaker(String webSocketUrl, WebSocketDecoderConfig decoderConfig) {
        super(webSocketUrl, null, decoderConfig);
    }

    @Override
    protected WebSocketFrameDecoder newWebsocketDecoder() {
        return new WebSocket13FrameDecoder(decoderConfig()) {
            @Override
            protected void checkCloseFrameBody(ChannelHandlerContext ctx, ByteBuf buffer) {
                // SessionHandler validates close frames (RFC 6455 section 7.4) and answers 1002.
            }
        };
    }
}
