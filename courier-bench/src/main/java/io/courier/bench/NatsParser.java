package io.courier.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Reads NATS's text protocol from a server ({@code INFO}, {@code MSG}, {@code PING}, {@code PONG},
 * {@code +OK}, {@code -ERR}) out of the payloads of WebSocket frames. The server frames its outbound
 * buffer as it sees fit: several {@code MSG}s share one frame, and one may span frames, split anywhere
 * (in the control line, in the payload, between {@code \r} and {@code \n}).
 *
 * <p>Each payload is parsed where it lies; only the tail of an operation a frame leaves unfinished is
 * copied aside and completed by the next frame, so a subscriber that keeps up copies nothing. From
 * https://docs.nats.io/reference/reference-protocols/nats: {@code MSG <subject> <sid> [reply-to]
 * <#bytes>\r\n[payload]\r\n}, control lines end with CRLF. Event loop only (one per connection);
 * {@link #release} when the channel is gone.
 */
final class NatsParser {
    /** What the parser found. The bytes handed to {@link #msg} are valid only during the call. */
    interface Handler {
        void msg(ByteBuf in, int from, int to);

        void ping();

        void pong();

        void info();

        /** {@code -ERR '...'} or a line that is no NATS operation. */
        void error(String line);
    }

    /** The start of an operation a frame did not finish, or null. */
    private ByteBuf pending;

    /** Parses {@code in[from, to)}, continuing whatever the previous payload left unfinished. */
    void feed(ByteBuf in, int from, int to, Handler handler) {
        if (pending != null && pending.isReadable()) {
            pending.writeBytes(in, from, to - from);
            int used = parse(pending, pending.readerIndex(), pending.writerIndex(), handler);
            pending.readerIndex(used);
            pending.discardReadBytes();
            return;
        }
        int used = parse(in, from, to, handler);
        if (used < to) {
            if (pending == null) {
                pending = Unpooled.buffer(Math.max(256, to - used));
            }
            pending.clear().writeBytes(in, used, to - used);
        }
    }

    /** Bytes held back for the next payload. */
    int pendingBytes() {
        return pending == null ? 0 : pending.readableBytes();
    }

    void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    /** Parses whole operations from {@code from}; returns where the first unfinished one starts ({@code to} if none). */
    static int parse(ByteBuf in, int from, int to, Handler handler) {
        int i = from;
        while (i < to) {
            int lf = in.indexOf(i, to, (byte) '\n');
            if (lf < 0) {
                return i;
            }
            int lineEnd = lf > i && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            byte c0 = upper(in.getByte(i));
            if (c0 == 'M') {
                long size = tokens(in, i, lineEnd) >= 4 ? lastNumber(in, i, lineEnd) : -1;
                if (size < 0) {
                    handler.error(in.toString(i, lineEnd - i, StandardCharsets.UTF_8));
                    i = lf + 1;
                    continue;
                }
                int payload = lf + 1;
                if (to - payload < size + 2) {
                    return i; // the payload and its CRLF are not all here yet
                }
                handler.msg(in, payload, payload + (int) size);
                i = payload + (int) size + 2;
                continue;
            }
            if (c0 == 'P' && lineEnd - i >= 4) {
                byte c1 = upper(in.getByte(i + 1));
                if (c1 == 'I') {
                    handler.ping();
                } else if (c1 == 'O') {
                    handler.pong();
                } else {
                    handler.error(in.toString(i, lineEnd - i, StandardCharsets.UTF_8));
                }
            } else if (c0 == 'I') {
                handler.info();
            } else if (c0 == '+') {
                // +OK: only sent with verbose on, which the bench never asks for
            } else if (lineEnd > i) {
                handler.error(in.toString(i, lineEnd - i, StandardCharsets.UTF_8));
            }
            i = lf + 1;
        }
        return i;
    }

    /** Space-separated words in {@code in[from, to)}: MSG, subject, sid, [reply-to,] #bytes. */
    private static int tokens(ByteBuf in, int from, int to) {
        int n = 0;
        boolean inWord = false;
        for (int i = from; i < to; i++) {
            boolean space = in.getByte(i) == ' ' || in.getByte(i) == '\t';
            if (!space && !inWord) {
                n++;
            }
            inWord = !space;
        }
        return n;
    }

    /** The decimal number that ends {@code in[from, to)} (the byte count of a MSG line), or -1. */
    private static long lastNumber(ByteBuf in, int from, int to) {
        int end = to;
        while (end > from && in.getByte(end - 1) == ' ') {
            end--;
        }
        long value = 0;
        long scale = 1;
        int i = end - 1;
        for (; i > from; i--) {
            byte c = in.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            value += (c - '0') * scale;
            scale *= 10;
            if (scale > 1_000_000_000_000L) {
                return -1;
            }
        }
        return i == end - 1 || in.getByte(i) != ' ' ? -1 : value;
    }

    private static byte upper(byte b) {
        return b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
    }
}
