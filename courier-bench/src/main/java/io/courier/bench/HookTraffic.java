package io.courier.bench;

import java.util.concurrent.TimeUnit;

/**
 * Backend traffic beside the socket publishers: {@code POST /v1/hook} broadcasts at a fixed rate from
 * one thread, each to every connection of the audience. Calls are synchronous, so a slow answer
 * delays the next; the summary says how many were made against how many were due.
 */
final class HookTraffic implements Runnable {
    private final CourierApi api;
    private final int perSecond;
    private final long durationNanos;
    private final Thread thread;
    private volatile long acked;
    private volatile long failed;
    private volatile long due;

    HookTraffic(CourierApi api, int perSecond, int durationSeconds) {
        this.api = api;
        this.perSecond = perSecond;
        this.durationNanos = TimeUnit.SECONDS.toNanos(durationSeconds);
        this.thread = new Thread(this, "bench-hook");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Waits until the last call returned. */
    void join() throws InterruptedException {
        thread.join(durationNanos / 1_000_000 + 30_000);
    }

    @Override
    public void run() {
        long start = System.nanoTime();
        long n = 0;
        while (true) {
            long elapsed = System.nanoTime() - start;
            if (elapsed >= durationNanos) {
                break;
            }
            due = 1 + elapsed * perSecond / 1_000_000_000L;
            if (n >= due) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            if (api.hookBroadcast("{\"hook\":" + n + "}")) {
                acked++;
            } else {
                failed++;
            }
            n++;
        }
    }

    long acked() {
        return acked;
    }

    long failed() {
        return failed;
    }

    long due() {
        return due;
    }
}
