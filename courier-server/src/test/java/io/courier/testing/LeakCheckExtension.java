package io.courier.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reported a buffer that was never released. Applied
 * to every test class (JUnit extension auto-detection). The suite runs at {@code paranoid} level, so
 * every buffer is tracked; a leak is reported only once the buffer is collected and another is
 * allocated, hence the GC and the allocations here.
 */
public final class LeakCheckExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new AssertionError("tests must run with -Dio.netty.leakDetection.level=paranoid, not "
                    + ResourceLeakDetector.getLevel());
        }
        for (int round = 0; round < 3 && LeakRecorder.REPORTS.isEmpty(); round++) {
            System.gc();
            List<ByteBuf> probes = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                probes.add(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                probes.add(PooledByteBufAllocator.DEFAULT.heapBuffer(16));
            }
            probes.forEach(ByteBuf::release);
        }
        if (!LeakRecorder.REPORTS.isEmpty()) {
            String first = LeakRecorder.REPORTS.get(0);
            int count = LeakRecorder.REPORTS.size();
            LeakRecorder.REPORTS.clear();
            throw new AssertionError(
                    count + " buffer leak report(s) after " + context.getDisplayName() + "; first:\n" + first);
        }
    }
}
