package io.courier;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd about the service's state for {@code Type=notify} units: one datagram such as
 * {@code READY=1} to the unix socket named by {@code $NOTIFY_SOCKET} (sd_notify(3)). The JDK cannot
 * send unix datagrams, Netty's native epoll transport can. Without the variable, or off Linux, it
 * does nothing. Blocking: call from the main or shutdown thread, never an event loop.
 */
final class SystemdNotifier {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

    private SystemdNotifier() {}

    /** @return true when the message was handed to the socket */
    static boolean notify(String socketPath, String state) {
        if (socketPath == null || socketPath.isEmpty()) {
            return false;
        }
        if (!Epoll.isAvailable()) {
            log.warn("NOTIFY_SOCKET is set but the native epoll transport is unavailable; cannot notify systemd");
            return false;
        }
        // sd_notify(3): a leading '@' names a socket in the abstract namespace.
        String path = socketPath.startsWith("@") ? '\0' + socketPath.substring(1) : socketPath;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            // Connected, so a plain buffer goes to systemd's socket (an unbound datagram channel is not active).
            Channel channel = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(new DomainSocketAddress(path))
                    .sync()
                    .channel();
            channel.writeAndFlush(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8))
                    .sync();
            channel.close().sync();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) { // Netty's sync() rethrows checked I/O exceptions unchecked
            log.warn("cannot notify systemd at {}: {}", socketPath, e.toString());
            return false;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
