package io.courier.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on a loopback ephemeral port that forwards to one target, for injecting network
 * faults between Courier and its database:
 * <ul>
 *   <li>{@link #cut()}: every open connection is closed and new ones are accepted and closed at
 *       once (what a crashed database host or a firewall reset looks like);</li>
 *   <li>{@link #blackhole()}: connections stay open but no byte moves in either direction, and new
 *       ones are accepted and never answered (a network partition: only timeouts help);</li>
 *   <li>{@link #restore()}: forwarding again; connections from a black-hole period are closed,
 *       since their protocol state is lost.</li>
 * </ul>
 * One thread accepts, two threads per connection pump bytes; all are daemons and end with {@link #close()}.
 */
public final class TcpProxy implements AutoCloseable {
    private enum Mode {
        FORWARD,
        CUT,
        BLACKHOLE
    }

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Object modeChanged = new Object();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger severed = new AtomicInteger();
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean closed;

    public TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Closes every open connection and refuses new ones (accept, then close) until {@link #restore()}. */
    public void cut() {
        mode = Mode.CUT;
        closeAll();
    }

    /** Stops moving bytes: open connections hang, new ones are accepted and never answered. */
    public void blackhole() {
        mode = Mode.BLACKHOLE;
    }

    /** Forwards again. Connections that lived through a black hole are closed first. */
    public void restore() {
        if (mode == Mode.BLACKHOLE) {
            closeAll();
        }
        synchronized (modeChanged) {
            mode = Mode.FORWARD;
            modeChanged.notifyAll();
        }
    }

    /** Client connections accepted and forwarded so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Client connections accepted and closed at once because the proxy was cut. */
    public int refused() {
        return refused.get();
    }

    /** Open sockets (either side) the proxy closed on a cut or after a black hole. */
    public int severed() {
        return severed.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing; nothing to do
        }
        closeAll();
        synchronized (modeChanged) {
            modeChanged.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            switch (mode) {
                case CUT -> {
                    refused.incrementAndGet();
                    quietClose(client);
                }
                case BLACKHOLE -> open.add(client); // held open, never answered; closed on restore
                case FORWARD -> forward(client);
            }
        }
    }

    private void forward(Socket client) {
        Socket upstream = new Socket();
        try {
            upstream.connect(new InetSocketAddress(targetHost, targetPort), 2_000);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
        } catch (IOException e) {
            quietClose(client);
            quietClose(upstream);
            return;
        }
        accepted.incrementAndGet();
        open.add(client);
        open.add(upstream);
        pump(client, upstream, "up");
        pump(upstream, client, "down");
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            awaitForwarding();
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException | InterruptedException e) {
                        // a side closed or the proxy cut it: end both
                    } finally {
                        open.remove(from);
                        open.remove(to);
                        quietClose(from);
                        quietClose(to);
                    }
                },
                "tcp-proxy-" + direction + "-" + port());
        t.setDaemon(true);
        t.start();
    }

    /** Holds a pump while the proxy is a black hole. */
    private void awaitForwarding() throws InterruptedException, IOException {
        synchronized (modeChanged) {
            while (mode == Mode.BLACKHOLE && !closed) {
                modeChanged.wait(100);
            }
        }
        if (closed) {
            throw new IOException("proxy closed");
        }
    }

    private void closeAll() {
        for (Socket s : open) {
            if (open.remove(s)) {
                severed.incrementAndGet();
                quietClose(s);
            }
        }
    }

    private static void quietClose(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing; nothing to do
        }
    }
}
