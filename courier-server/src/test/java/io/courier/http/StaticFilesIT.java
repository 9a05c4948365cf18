package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** courier.js, its types and the console, served from the jar: cache headers, ETags, CORS, the console switch. */
class StaticFilesIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    private static String version() {
        Properties p = new Properties();
        try (InputStream in = StaticRoutes.class.getResourceAsStream("client-version.properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    private static HttpResponse<String> get(String path, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(path)).GET();
        headers.forEach(request::header);
        return server.send(request, null);
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    @Test
    void courierJsIsTheSourceFileRevalidatedWithAnEtagForAnyOrigin() throws IOException {
        HttpResponse<String> js = get("/client/courier.js", Map.of("Origin", "https://app.elsewhere.example"));

        assertStatus(200, js);
        assertArrayEquals(
                Files.readAllBytes(Path.of("src/main/resources/client/courier.js")),
                js.body().getBytes(StandardCharsets.UTF_8),
                "the file the tests load is the file in the server's resources");
        assertEquals("text/javascript; charset=utf-8", header(js, "Content-Type"));
        assertEquals("no-cache", header(js, "Cache-Control"), "revalidated, so an upgrade reaches browsers");
        assertEquals("*", header(js, "Access-Control-Allow-Origin"));
        assertEquals("nosniff", header(js, "X-Content-Type-Options"));
        String etag = header(js, "ETag");
        assertTrue(etag.matches("\"[A-Za-z0-9_-]{22}\""), etag);

        HttpResponse<String> same = get("/client/courier.js", Map.of("If-None-Match", etag));
        assertStatus(304, same);
        assertEquals("", same.body());
        assertEquals(etag, header(same, "ETag"));
        assertEquals("no-cache", header(same, "Cache-Control"));
        assertStatus(304, get("/client/courier.js", Map.of("If-None-Match", "\"other\", W/" + etag)));
        assertStatus(200, get("/client/courier.js", Map.of("If-None-Match", "\"other\"")));
    }

    @Test
    void versionedFilesAreTheSameBytesCachedForever() {
        HttpResponse<String> latest = get("/client/courier.js", Map.of());
        HttpResponse<String> versioned = get("/client/courier-" + version() + ".js", Map.of());
        HttpResponse<String> types = get("/client/courier.d.ts", Map.of());
        HttpResponse<String> versionedTypes = get("/client/courier-" + version() + ".d.ts", Map.of());

        assertStatus(200, versioned);
        assertEquals(latest.body(), versioned.body());
        assertEquals(header(latest, "ETag"), header(versioned, "ETag"));
        assertEquals("public, max-age=31536000, immutable", header(versioned, "Cache-Control"));
        assertEquals("*", header(versioned, "Access-Control-Allow-Origin"));
        assertStatus(200, types);
        assertTrue(types.body().contains("export declare class Courier"), types.body());
        assertEquals("no-cache", header(types, "Cache-Control"));
        assertEquals(types.body(), versionedTypes.body());
        assertEquals("public, max-age=31536000, immutable", header(versionedTypes, "Cache-Control"));
        assertError(get("/client/courier-0.0.0.js", Map.of()), 404, ErrorCode.ENOT_FOUND);
        assertError(server.post("/client/courier.js", null, "{}"), 405, ErrorCode.EMETHOD_NOT_ALLOWED);
    }

    @Test
    void consolePageForbidsFramingAndForeignScripts() {
        HttpResponse<String> page = get("/console", Map.of());
        HttpResponse<String> script = get("/console/console.js", Map.of());
        HttpResponse<String> style = get("/console/console.css", Map.of());

        assertStatus(200, page);
        assertEquals("text/html; charset=utf-8", header(page, "Content-Type"));
        assertTrue(page.body().contains("<title>Courier console</title>"), page.body());
        String policy = header(page, "Content-Security-Policy");
        assertTrue(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"), policy);
        assertEquals("DENY", header(page, "X-Frame-Options"));
        assertEquals(null, header(page, "Access-Control-Allow-Origin"), "the console is not for other origins");
        assertStatus(200, script);
        assertTrue(script.body().contains("from \"/client/courier.js\""), "the console uses courier.js itself");
        assertEquals("text/css; charset=utf-8", header(style, "Content-Type"));
        assertEquals(page.body(), get("/console/", Map.of()).body());
    }

    @Test
    void filesKeepTheirCorsGrantWhenTheApiRestrictsOriginsAndTheConsoleCanBeTurnedOff() {
        try (TestServer restricted = TestServer.start(Map.of(
                "courier.cors.allowed.origins", "https://app.example.com", "courier.console.enabled", "false"))) {
            Map<String, String> foreign = Map.of("Origin", "https://elsewhere.example");
            HttpResponse<String> js = restricted.send(
                    HttpRequest.newBuilder(restricted.uri("/client/courier.js"))
                            .header("Origin", "https://elsewhere.example"),
                    null);
            HttpResponse<String> api = restricted.send(
                    HttpRequest.newBuilder(restricted.uri("/healthz")).header("Origin", foreign.get("Origin")), null);

            assertStatus(200, js);
            assertEquals("*", header(js, "Access-Control-Allow-Origin"), "pages on any origin import the module");
            assertFalse(
                    api.headers().firstValue("Access-Control-Allow-Origin").isPresent(),
                    "the API itself keeps courier.cors.allowed.origins");
            assertError(restricted.get("/console", null), 404, ErrorCode.ENOT_FOUND);
            assertError(restricted.get("/console/console.js", null), 404, ErrorCode.ENOT_FOUND);
        }
    }
}
