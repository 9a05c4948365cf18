package io.courier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.courier.testing.ServerClient;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code courier.io.threads} sets how many event loops serve the sockets. Netty starts a loop's
 * thread when the first channel is registered on it and hands channels out round-robin, so eight
 * sockets touch every loop the group has: the new {@code courier-io} threads are the group's size.
 */
class IoThreadsIT {

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void socketsAreServedByExactlyTheConfiguredEventLoops(int threads) {
        Set<String> before = ioThreads();
        List<WsClient> sockets = new ArrayList<>();
        try (TestServer server = TestServer.start(Map.of("courier.io.threads", Integer.toString(threads)))) {
            String token = server.setUp(ServerClient.uniqueAudience());
            for (int i = 0; i < 8; i++) {
                sockets.add(server.connect(token));
            }
            Set<String> started = ioThreads();
            started.removeAll(before);

            assertEquals(threads, started.size(), "new event loop threads: " + started);
        } finally {
            sockets.forEach(WsClient::close);
        }
    }

    private static Set<String> ioThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .filter(name -> name.startsWith("courier-io-"))
                .collect(Collectors.toSet());
    }
}
