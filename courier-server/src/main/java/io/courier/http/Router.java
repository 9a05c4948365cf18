package io.courier.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** The table of REST routes: exact path, then method. Built once at startup, read-only after. */
public final class Router {
    /** A route and whether it needs a bearer token. */
    record Entry(Route route, boolean authenticated) {}

    private final Map<String, Map<HttpMethod, Entry>> paths = new HashMap<>();

    public Router get(String path, boolean authenticated, Route route) {
        return add(HttpMethod.GET, path, authenticated, route);
    }

    public Router post(String path, boolean authenticated, Route route) {
        return add(HttpMethod.POST, path, authenticated, route);
    }

    private Router add(HttpMethod method, String path, boolean authenticated, Route route) {
        if (paths.computeIfAbsent(path, p -> new LinkedHashMap<>()).putIfAbsent(method, new Entry(route, authenticated))
                != null) {
            throw new IllegalArgumentException("route registered twice: " + method + " " + path);
        }
        return this;
    }

    /** The methods a path accepts, or null when the path is unknown. */
    Map<HttpMethod, Entry> methods(String path) {
        return paths.get(path);
    }

    static String allowHeader(Map<HttpMethod, Entry> methods) {
        return methods.keySet().stream().map(HttpMethod::name).collect(Collectors.joining(", ")) + ", OPTIONS";
    }
}
