package io.courier.bench;

import java.time.Duration;

/**
 * Connection keys from {@code GET /v1/sign}, reused: a key opens any number of sockets until it
 * expires, so a few keys serve thousands of handshakes. Each is replaced well before Courier's
 * default 60 s lifetime, since a key may wait for a handshake slot before it is used.
 * Main thread only.
 */
final class SignedKeys {
    private static final int KEYS = 4;
    private static final long REFRESH_NANOS = Duration.ofSeconds(20).toNanos();

    private final CourierApi api;
    private final String[] keys = new String[KEYS];
    private final long[] signedAt = new long[KEYS];
    private int next;

    SignedKeys(CourierApi api) {
        this.api = api;
    }

    String next() {
        int i = next;
        next = (next + 1) % KEYS;
        long now = System.nanoTime();
        if (keys[i] == null || now - signedAt[i] > REFRESH_NANOS) {
            keys[i] = api.sign();
            signedAt[i] = now;
        }
        return keys[i];
    }
}
