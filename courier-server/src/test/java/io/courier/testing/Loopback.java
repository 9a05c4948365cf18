package io.courier.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The plain-socket steps {@link HttpWire} and {@link WsWire} share: connect, write, read a response head, close. */
final class Loopback {
    private Loopback() {}

    /** A connection to 127.0.0.1:{@code port} whose reads time out after {@code timeout}; from {@code local} unless null. */
    static Socket connect(int port, Duration timeout, InetAddress local) {
        return connect(port, timeout, local, 0);
    }

    /**
     * As {@link #connect(int, Duration, InetAddress)}, with the receive buffer (SO_RCVBUF) fixed before
     * connecting when {@code receiveBufferBytes > 0}, so that what a client that never reads can hold
     * in its kernel is bounded.
     */
    static Socket connect(int port, Duration timeout, InetAddress local, int receiveBufferBytes) {
        try {
            Socket socket = new Socket();
            if (receiveBufferBytes > 0) {
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            if (local != null) {
                socket.bind(new InetSocketAddress(local, 0));
            }
            socket.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.setTcpNoDelay(true);
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes and flushes; false when the server had already closed the connection (a reset). */
    static boolean write(OutputStream out, byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Reads an HTTP head through its blank line (included), starting with {@code first} when that is
     * 0 or more; returns what came when the connection ends before it.
     */
    static String readHead(InputStream in, int first) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b = first >= 0 ? first : in.read();
        while (b >= 0) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1
                    : b == '\r' ? 1 : 0;
            if (matched == 4) {
                break;
            }
            b = in.read();
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket; nothing to do
        }
    }
}
