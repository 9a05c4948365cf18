package io.courier.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One plain TCP connection speaking HTTP/1.1 by hand, for the requests no real client sends:
 * malformed request lines, oversized heads, broken chunking, bytes trickled one at a time, requests
 * that never end. Every read is bounded by the timeout given at construction.
 */
public final class HttpWire implements AutoCloseable {
    /** A response; header names as sent, matched case-insensitively. */
    public record Response(int status, List<String[]> headers, String body) {
        public Optional<String> header(String name) {
            return headers.stream()
                    .filter(h -> h[0].equalsIgnoreCase(name))
                    .map(h -> h[1])
                    .findFirst();
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Duration timeout;

    public HttpWire(int port, Duration timeout) {
        this(port, timeout, null);
    }

    /**
     * From a chosen local address, e.g. 127.0.0.2 to stand for a second client machine: on Linux
     * the whole of 127.0.0.0/8 is loopback. Null lets the kernel choose.
     */
    public HttpWire(int port, Duration timeout, InetAddress localAddress) {
        this.timeout = timeout;
        socket = Loopback.connect(port, timeout, localAddress);
        try {
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends bytes; returns false when the server had already closed the connection. */
    public boolean send(byte[] bytes) {
        return Loopback.write(out, bytes);
    }

    public boolean send(String latin1) {
        return send(latin1.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Sends one byte at a time with {@code pause} between them (a slow client); stops early and
     * returns the number of bytes written when the server closes the connection meanwhile.
     */
    public int sendSlowly(byte[] bytes, Duration pause) {
        for (int i = 0; i < bytes.length; i++) {
            if (!send(new byte[] {bytes[i]})) {
                return i;
            }
            if (i + 1 < bytes.length) {
                pace(pause);
            }
        }
        return bytes.length;
    }

    /** Half-closes: the server sees end of input, we can still read. */
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /**
     * The next response, or empty when the server closed the connection before sending one byte of
     * it. Fails when neither happens within the timeout.
     */
    public Optional<Response> readOrClosed() {
        try {
            int first = in.read();
            if (first < 0) {
                return Optional.empty();
            }
            return Optional.of(readResponse(first));
        } catch (SocketTimeoutException e) {
            throw new AssertionError("neither a response nor a close within " + timeout);
        } catch (IOException e) {
            return Optional.empty(); // reset: closed as well
        }
    }

    /** Sends {@code request} and reads its response. */
    public Response exchange(String request) {
        if (!send(request)) {
            throw new AssertionError("the server had closed the connection before the request");
        }
        return read();
    }

    /** The next response; fails when the connection closes first or nothing arrives in time. */
    public Response read() {
        return readOrClosed().orElseThrow(() -> new AssertionError("connection closed before a response"));
    }

    /**
     * Waits up to {@code wait} for the server to close the connection, discarding anything it sends.
     * Returns true when it closed (EOF or reset).
     */
    public boolean awaitClose(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                long left = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) Math.max(1, left));
                try {
                    if (in.read() < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                }
            }
        } catch (IOException e) {
            return true;
        } finally {
            try {
                socket.setSoTimeout((int) timeout.toMillis());
            } catch (IOException ignored) {
                // closed
            }
        }
    }

    private static void pace(Duration pause) {
        try {
            // Pacing a slow client, not synchronisation.
            Thread.sleep(Math.max(1, pause.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private Response readResponse(int first) throws IOException {
        String text = Loopback.readHead(in, first);
        if (!text.endsWith("\r\n\r\n")) {
            throw new AssertionError("connection closed inside a response head: " + text);
        }
        String[] lines = text.substring(0, text.length() - 4).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new AssertionError("not an HTTP response: " + text);
        }
        List<String[]> headers = new ArrayList<>();
        long length = -1;
        boolean chunked = false;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            String name = lines[i].substring(0, colon).trim();
            String value = lines[i].substring(colon + 1).trim();
            headers.add(new String[] {name, value});
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("content-length")) {
                length = Long.parseLong(value);
            } else if (lower.equals("transfer-encoding")
                    && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            }
        }
        byte[] body;
        if (length >= 0) {
            body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new AssertionError("connection closed after " + body.length + " of " + length + " body bytes");
            }
        } else if (chunked) {
            body = readChunked();
        } else {
            body = in.readAllBytes();
        }
        return new Response(Integer.parseInt(statusLine[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            int size = Integer.parseInt(sizeLine.replaceFirst(";.*", "").trim(), 16);
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.writeBytes(in.readNBytes(size));
            readLine();
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        Loopback.close(socket);
    }
}
