package io.courier.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * courier.js, its type declarations and the browser console: files served from the jar without a
 * token. Every file is read from the class path once, at startup, with its ETag (a hash of its
 * bytes), so answering touches no file on the event loop and an upgraded jar changes every ETag
 * whose file changed.
 *
 * <ul>
 *   <li>{@code /client/courier.js} (and {@code .d.ts}): {@code no-cache}, so browsers revalidate
 *       with {@code If-None-Match} and an upgrade reaches them at once;
 *   <li>{@code /client/courier-<version>.js}: the same bytes, {@code immutable} for a year;
 *   <li>both with {@code Access-Control-Allow-Origin: *} whatever {@code courier.cors.allowed.origins}
 *       says: pages on other origins import the module (a module script is fetched in CORS mode), and
 *       the files are public;
 *   <li>{@code /console} when {@code courier.console.enabled}: the page, its script and style.
 * </ul>
 */
public final class StaticRoutes {
    private static final String REVALIDATE = "no-cache";
    private static final String IMMUTABLE = "public, max-age=31536000, immutable";
    private static final String JS = "text/javascript; charset=utf-8";
    private static final String TS = "application/typescript; charset=utf-8";
    /**
     * The console takes a bearer token: no framing by other pages (clickjacking), scripts from this
     * origin only, and connections to any http(s)/ws(s) origin since {@code courier.ws.url} may name
     * another host.
     */
    private static final String CONSOLE_POLICY = "default-src 'self'; connect-src 'self' http: https: ws: wss:;"
            + " img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /** One file as it is answered. */
    record Asset(byte[] bytes, String contentType, String cacheControl, String etag, boolean anyOrigin) {}

    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final String version;

    private StaticRoutes(String version) {
        this.version = version;
    }

    /** Reads every file from the class path; a missing one is a broken build and stops startup. */
    public static StaticRoutes load(boolean console) {
        StaticRoutes routes = new StaticRoutes(readVersion());
        byte[] js = resource("client/courier.js");
        byte[] types = resource("client/courier.d.ts");
        routes.add("/client/courier.js", js, JS, REVALIDATE, true);
        routes.add("/client/courier.d.ts", types, TS, REVALIDATE, true);
        routes.add("/client/courier-" + routes.version + ".js", js, JS, IMMUTABLE, true);
        routes.add("/client/courier-" + routes.version + ".d.ts", types, TS, IMMUTABLE, true);
        if (console) {
            byte[] page = resource("console/index.html");
            routes.add("/console", page, "text/html; charset=utf-8", REVALIDATE, false);
            routes.add("/console/", page, "text/html; charset=utf-8", REVALIDATE, false);
            routes.add("/console/console.js", resource("console/console.js"), JS, REVALIDATE, false);
            routes.add(
                    "/console/console.css",
                    resource("console/console.css"),
                    "text/css; charset=utf-8",
                    REVALIDATE,
                    false);
        }
        return routes;
    }

    /** The project version in {@code /client/courier-<version>.js}. */
    public String version() {
        return version;
    }

    public void register(Router router) {
        assets.forEach((path, asset) -> router.get(path, false, ex -> serve(ex, asset)));
    }

    private void add(String path, byte[] bytes, String contentType, String cacheControl, boolean anyOrigin) {
        assets.put(path, new Asset(bytes, contentType, cacheControl, etag(bytes), anyOrigin));
    }

    // Event loop: only the bytes held in memory.
    private static void serve(Exchange ex, Asset asset) {
        boolean fresh = matches(ex.request().headers().get(HttpHeaderNames.IF_NONE_MATCH), asset.etag());
        FullHttpResponse response = fresh
                ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED)
                : new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(asset.bytes()));
        HttpHeaders headers = response.headers();
        headers.set(HttpHeaderNames.ETAG, asset.etag());
        headers.set(HttpHeaderNames.CACHE_CONTROL, asset.cacheControl());
        headers.set("X-Content-Type-Options", "nosniff");
        if (!fresh) {
            headers.set(HttpHeaderNames.CONTENT_TYPE, asset.contentType());
        }
        if (asset.anyOrigin()) {
            headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        } else {
            headers.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CONSOLE_POLICY);
            headers.set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
            headers.set("Referrer-Policy", "no-referrer");
        }
        ex.send(response);
    }

    /** RFC 9110 section 13.1.2: If-None-Match compares weakly, and {@code *} matches any current file. */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String candidate : ifNoneMatch.split(",")) {
            String tag = candidate.trim();
            if (tag.startsWith("W/")) {
                tag = tag.substring(2);
            }
            if (tag.equals("*") || tag.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            return '"'
                    + Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(hash)
                            .substring(0, 22)
                    + '"';
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String readVersion() {
        Properties p = new Properties();
        try (InputStream in = StaticRoutes.class.getResourceAsStream("client-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("client-version.properties missing from the class path");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = p.getProperty("version", "");
        if (!version.matches("[0-9A-Za-z.+-]+")) {
            throw new IllegalStateException(
                    "client-version.properties: version '" + version + "' (expected: a Maven version)");
        }
        return version;
    }

    private static byte[] resource(String name) {
        try (InputStream in = StaticRoutes.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
