package io.courier;

import io.netty.util.internal.PlatformDependent;

/**
 * How direct memory is accounted, which decides what happens when it runs out.
 *
 * <p>Without help Netty allocates direct buffers through {@code ByteBuffer.allocateDirect}, whose
 * limit check ({@code java.nio.Bits.reserveMemory}) calls {@code System.gc()} and sleeps in a retry
 * loop before it throws: measured here, 0.5-0.8 s per failed allocation, on whichever event loop
 * asked. Hundreds of connections hitting the limit at once froze every loop for tens of seconds.
 * When Netty may construct {@code DirectByteBuffer}s itself it counts direct memory on its own and
 * fails an allocation over the limit at once ({@code OutOfDirectMemoryError}, 0.2 ms here): only the
 * connection that asked fails, and the loop goes on. That needs {@code java.nio} opened to Netty
 * (the jar's manifest says {@code Add-Opens: java.base/java.nio}; a class-path launch passes
 * {@code --add-opens java.base/java.nio=ALL-UNNAMED}) and Netty told to use it, which
 * {@link #prepare()} does before any Netty class reads its properties.
 */
final class DirectMemory {
    private static final String TRY_REFLECTION = "io.netty.tryReflectionSetAccessible";

    private DirectMemory() {}

    /** Call first thing in {@code main}, before Netty is loaded. An explicit setting wins. */
    static void prepare() {
        if (System.getProperty(TRY_REFLECTION) == null) {
            System.setProperty(TRY_REFLECTION, "true");
        }
    }

    /** True when an allocation over the limit fails at once instead of blocking its thread. */
    static boolean failsFast() {
        return PlatformDependent.useDirectBufferNoCleaner();
    }

    /** For the startup line: the limit, and who enforces it. */
    static String describe() {
        return (failsFast() ? "netty" : "jdk") + " max=" + (PlatformDependent.maxDirectMemory() >> 20) + "MiB";
    }
}
