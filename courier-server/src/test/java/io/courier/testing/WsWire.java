package io.courier.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A WebSocket client on a plain TCP socket that writes any bytes, including frames no library would
 * send (unmasked, reserved bits and opcodes, invalid UTF-8, lying lengths), reads the server's frames
 * byte by byte (a client that never answers pings) and reports how the server ended the connection.
 * Its read timeout is chosen per test, so a server that fails to close costs seconds, not tens of
 * seconds. The kit's one WebSocket frame parser; HTTP by hand is {@link HttpWire}.
 */
public final class WsWire implements AutoCloseable {
    /** How a connection ended: the close frame's code (null when none came), what came before it, and whether TCP closed. */
    public record Ending(Integer closeCode, String reason, List<String> framesBefore, boolean tcpClosed) {
        /** e.g. {@code close 1007}, {@code EOF without close frame}, {@code still open}. */
        public String summary() {
            if (closeCode != null) {
                return "close " + closeCode + (tcpClosed ? "" : " but TCP left open");
            }
            return tcpClosed ? "EOF without close frame" : "still open";
        }

        @Override
        public String toString() {
            return summary()
                    + (reason == null || reason.isEmpty() ? "" : " (\"" + reason + "\")")
                    + (framesBefore.isEmpty() ? "" : " after " + framesBefore);
        }
    }

    /** A server frame: opcode and payload (server frames are unmasked). */
    public record Frame(int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a close frame. */
        public int closeCode() {
            return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private WsWire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * A plain TCP connection to the loopback port, not yet upgraded (see {@link #upgrade}); reads
     * time out after {@code timeout}. Throws {@link UncheckedIOException} when nothing accepts.
     */
    public static WsWire connect(int port, Duration timeout) {
        return connect(port, timeout, 0);
    }

    /** As {@link #connect(int, Duration)}, with SO_RCVBUF fixed before connecting when {@code receiveBufferBytes > 0}. */
    public static WsWire connect(int port, Duration timeout, int receiveBufferBytes) {
        Socket socket = Loopback.connect(port, timeout, null, receiveBufferBytes);
        try {
            return new WsWire(socket);
        } catch (IOException e) {
            Loopback.close(socket);
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Opens {@code path} on the loopback port, completes the upgrade (asserting 101) and returns the
     * connection; reads then time out after {@code timeout}.
     */
    public static WsWire open(int port, String path, Duration timeout) {
        return open(port, path, timeout, 0);
    }

    /** As {@link #open(int, String, Duration)}, with the receive buffer fixed as in {@link #connect(int, Duration, int)}. */
    public static WsWire open(int port, String path, Duration timeout, int receiveBufferBytes) {
        WsWire wire = connect(port, timeout, receiveBufferBytes);
        String head = wire.upgrade(path);
        if (!head.startsWith("HTTP/1.1 101")) {
            wire.close();
            throw new AssertionError("upgrade refused: " + head);
        }
        return wire;
    }

    /** Sends a version 13 upgrade request for {@code path} and returns the response head, however it ends. */
    public String upgrade(String path) {
        String key = Base64.getEncoder().encodeToString("courier-wiretest".getBytes(StandardCharsets.US_ASCII));
        write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
        return readHead();
    }

    /** Writes bytes as they are; returns false when the server had already closed (a reset). */
    public boolean write(byte[] bytes) {
        return Loopback.write(out, bytes);
    }

    public boolean write(String latin1) {
        return write(latin1.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A masked, final client frame (RFC 6455 section 5.3: clients MUST mask). */
    public boolean writeFrame(int opcode, byte[] payload) {
        return write(frame(0x80 | opcode, true, payload, -1));
    }

    /** The next frame; fails on a timeout or EOF. */
    public Frame readFrame() {
        try {
            Frame f = nextFrame();
            if (f == null) {
                throw new AssertionError("connection closed while waiting for a frame");
            }
            return f;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame within the read timeout");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What a connection carried until it ended: payload bytes before the end, and the close code
     * and reason if a close frame came.
     */
    public record Drained(long payloadBytes, int frames, Integer closeCode, String closeReason) {}

    /** Reads every frame until a close frame or EOF, counting payload bytes; fails on the read timeout. */
    public Drained drain() {
        long bytes = 0;
        int frames = 0;
        try {
            while (true) {
                Frame f = nextFrame();
                if (f == null) {
                    return new Drained(bytes, frames, null, null);
                }
                if (f.opcode() == 0x8) {
                    int code = f.payload().length >= 2 ? ((f.payload()[0] & 0xFF) << 8) | (f.payload()[1] & 0xFF) : -1;
                    String reason = f.payload().length > 2
                            ? new String(f.payload(), 2, f.payload().length - 2, StandardCharsets.UTF_8)
                            : "";
                    return new Drained(bytes, frames, code, reason);
                }
                bytes += f.payload().length;
                frames++;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("neither a close frame nor EOF within the read timeout");
        } catch (IOException e) {
            return new Drained(bytes, frames, null, null); // reset
        }
    }

    /** Reads until a close frame, EOF or the timeout (at most 16 frames), then whether TCP closes. */
    public Ending ending() {
        List<String> before = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                Frame f = nextFrame();
                if (f == null) {
                    return new Ending(null, null, before, true);
                }
                if (f.opcode() == 0x8) {
                    Integer code =
                            f.payload().length >= 2 ? ((f.payload()[0] & 0xFF) << 8) | (f.payload()[1] & 0xFF) : null;
                    String reason = f.payload().length > 2
                            ? new String(f.payload(), 2, f.payload().length - 2, StandardCharsets.UTF_8)
                            : "";
                    return new Ending(code == null ? -1 : code, reason, before, tcpCloses());
                }
                String text = f.text();
                before.add(f.opcode() + ":" + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
            }
            return new Ending(null, null, before, false);
        } catch (SocketTimeoutException e) {
            return new Ending(null, null, before, false);
        } catch (IOException e) {
            return new Ending(null, null, before, true); // reset
        }
    }

    private boolean tcpCloses() {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Null at EOF. */
    private Frame nextFrame() throws IOException {
        int b0 = in.read();
        if (b0 < 0) {
            return null;
        }
        int b1 = readByte();
        long len = b1 & 0x7F;
        if (len == 126) {
            len = (readByte() << 8) | readByte();
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | readByte();
            }
        }
        byte[] payload = in.readNBytes((int) len);
        if (payload.length < len) {
            return null;
        }
        return new Frame(b0 & 0x0F, payload);
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new IOException("connection closed inside a frame");
        }
        return b;
    }

    /** Reads an HTTP response head (status line and headers) up to the blank line, or to EOF. */
    public String readHead() {
        try {
            return Loopback.readHead(in, -1);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no complete response head within the read timeout");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A client frame with every bit chosen: {@code b0} is FIN, RSV and opcode; the payload is masked
     * when {@code masked}; a {@code declaredLength} of 0 or more replaces the real length in the header.
     */
    public static byte[] frame(int b0, boolean masked, byte[] payload, long declaredLength) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(b0);
        long len = declaredLength >= 0 ? declaredLength : payload.length;
        int maskBit = masked ? 0x80 : 0;
        if (len < 126) {
            f.write(maskBit | (int) len);
        } else if (len <= 0xFFFF) {
            f.write(maskBit | 126);
            f.write((int) (len >> 8));
            f.write((int) (len & 0xFF));
        } else {
            f.write(maskBit | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) (len >>> (8 * i)) & 0xFF);
            }
        }
        byte[] mask = {0x37, (byte) 0xFA, 0x21, 0x3D};
        if (masked) {
            f.writeBytes(mask);
        }
        for (int i = 0; i < payload.length; i++) {
            f.write(masked ? payload[i] ^ mask[i % 4] : payload[i]);
        }
        return f.toByteArray();
    }

    @Override
    public void close() {
        Loopback.close(socket);
    }
}
