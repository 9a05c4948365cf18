package io.courier.testing;

import io.courier.CourierServer;
import io.courier.auth.TokenIssuer;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One started server for every test of a class, closed after the last one:
 * <pre>
 *   &#64;RegisterExtension
 *   static final CourierExtension server = CourierExtension.withDefaults();
 *   // or CourierExtension.with(Map.of("courier.ws.max.frame.bytes", "4096"))
 * </pre>
 * The field must be static: the server starts before the class's {@code @BeforeAll} methods (which
 * may use it) and closes after its {@code @AfterAll} methods. Tests share the server, so each uses
 * its own audience ({@link #uniqueAudience()}).
 */
public final class CourierExtension extends ServerClient implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> overrides;
    /** Written before the first test and after the last; read by test threads and their helpers. */
    private volatile TestServer running;

    private CourierExtension(Map<String, String> overrides) {
        this.overrides = overrides;
    }

    /** The server as {@link TestServer#start()} configures it. */
    public static CourierExtension withDefaults() {
        return new CourierExtension(Map.of());
    }

    /** With property overrides, e.g. {@code with(Map.of("courier.metrics.token", TOKEN))}. */
    public static CourierExtension with(Map<String, String> overrides) {
        return new CourierExtension(Map.copyOf(overrides));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (running != null) {
            throw new IllegalStateException(
                    "CourierExtension started twice: register it on a static field of one class");
        }
        running = TestServer.start(overrides);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        TestServer server = running;
        running = null;
        if (server != null) {
            server.close();
        }
    }

    private TestServer running() {
        if (running == null) {
            throw new IllegalStateException(
                    "no server: CourierExtension starts one for its test class only (a static @RegisterExtension field)");
        }
        return running;
    }

    @Override
    public CourierServer server() {
        return running().server();
    }

    @Override
    protected TokenIssuer issuer() {
        return running().issuer();
    }
}
