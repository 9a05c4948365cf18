package io.courier.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * How long recovering missed messages takes: per round, a subscriber takes its position on a
 * history topic and leaves, {@code --missed} messages are published through the hook, and a fresh
 * connection (already open, so the handshake is not counted) subscribes with {@code since}; the
 * time from sending that subscribe to receiving the last replayed message is one sample. Prints
 * the median, p90, p99 and maximum over {@code --rounds} rounds.
 *
 * <pre>
 *   java -cp courier-bench.jar io.courier.bench.RecoveryProbe --url http://127.0.0.1:PORT --secret S
 *       [--subscriber-url http://OTHER:PORT] [--missed 100] [--rounds 50] [--size 100]
 * </pre>
 * {@code --subscriber-url} recovers on another node of a cluster than the one published to.
 */
public final class RecoveryProbe {
    private static final JsonFactory JSON = new JsonFactory();

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            flags.put(args[i], args[i + 1]);
        }
        URI url = URI.create(required(flags, "--url"));
        URI subscriberUrl = URI.create(flags.getOrDefault("--subscriber-url", url.toString()));
        String secret = flags.getOrDefault("--secret", System.getenv().getOrDefault("COURIER_JWT_SECRET", ""));
        int missed = Integer.parseInt(flags.getOrDefault("--missed", "100"));
        int rounds = Integer.parseInt(flags.getOrDefault("--rounds", "50"));
        int size = Integer.parseInt(flags.getOrDefault("--size", "100"));
        String audience = "probe-" + UUID.randomUUID() + ".test";
        String token = CourierApi.mint(secret, audience);
        CourierApi api = new CourierApi(url, token);
        CourierApi subscriberApi = new CourierApi(subscriberUrl, token);
        api.createAudience();
        api.createTopic("recovery", Math.max(missed, 100));
        HttpClient http = HttpClient.newHttpClient();
        StringBuilder message = new StringBuilder();
        Publication.write(message, 0, 0, 0, size);
        String publish = "{\"action\":\"publish\",\"topic\":\"recovery\",\"message\":" + message + "}";
        long[] micros = new long[rounds];
        for (int round = 0; round < rounds; round++) {
            String[] position;
            try (Client first = Client.open(http, subscriberUrl, subscriberApi.sign())) {
                first.send("{\"action\":\"subscribe\",\"topic\":\"recovery\",\"id\":1}");
                position = position(first.next());
            }
            for (int i = 0; i < missed; i++) {
                if (!api.hookPublish(publish)) {
                    throw new IllegalStateException("hook publish refused");
                }
            }
            try (Client back = Client.open(http, subscriberUrl, subscriberApi.sign())) {
                long start = System.nanoTime();
                back.send("{\"action\":\"subscribe\",\"topic\":\"recovery\",\"id\":2,\"since\":{\"offset\":"
                        + position[0] + ",\"epoch\":\"" + position[1] + "\"}}");
                String ack = back.next();
                if (!ack.contains("\"recovered\":true")) {
                    throw new IllegalStateException("not recovered: " + ack);
                }
                for (int i = 0; i < missed; i++) {
                    back.next();
                }
                micros[round] = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
            }
        }
        Arrays.sort(micros);
        System.out.printf(
                "recovery of %d missed messages (%d B), %d rounds: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                missed,
                size,
                rounds,
                micros[rounds / 2] / 1000.0,
                micros[(int) Math.min(rounds - 1, Math.ceil(rounds * 0.90) - 1)] / 1000.0,
                micros[(int) Math.min(rounds - 1, Math.ceil(rounds * 0.99) - 1)] / 1000.0,
                micros[rounds - 1] / 1000.0);
        System.exit(0);
    }

    private static String required(Map<String, String> flags, String name) {
        String value = flags.get(name);
        if (value == null) {
            System.err.println("RecoveryProbe: " + name + " is required");
            System.exit(2);
        }
        return value;
    }

    /** {offset, epoch} of an ack's position. */
    private static String[] position(String ack) {
        String[] out = new String[2];
        try (JsonParser p = JSON.createParser(ack)) {
            while (p.nextToken() != null) {
                if (p.currentToken() == JsonToken.FIELD_NAME && p.currentName().equals("offset")) {
                    p.nextToken();
                    out[0] = p.getText();
                } else if (p.currentToken() == JsonToken.FIELD_NAME
                        && p.currentName().equals("epoch")) {
                    p.nextToken();
                    out[1] = p.getText();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out[0] == null || out[1] == null) {
            throw new IllegalStateException("no position in " + ack);
        }
        return out;
    }

    /** A JDK WebSocket that queues text messages; skips the connected frame. */
    private static final class Client implements WebSocket.Listener, AutoCloseable {
        private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        private final List<CharSequence> parts = new ArrayList<>();
        private WebSocket socket;

        static Client open(HttpClient http, URI api, String key) throws Exception {
            Client c = new Client();
            URI ws = URI.create("ws://" + api.getHost() + ":" + api.getPort() + "/ws?token=" + key);
            c.socket = http.newWebSocketBuilder().buildAsync(ws, c).get(10, TimeUnit.SECONDS);
            c.next(); // connected
            return c;
        }

        void send(String text) {
            socket.sendText(text, true).join();
        }

        String next() throws InterruptedException {
            String m = messages.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new IllegalStateException("no message within 10 s");
            }
            return m;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            parts.add(data.toString());
            if (last) {
                messages.add(String.join("", parts));
                parts.clear();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void close() {
            socket.sendClose(1000, "")
                    .orTimeout(5, TimeUnit.SECONDS)
                    .exceptionally(e -> null)
                    .join();
        }
    }
}
