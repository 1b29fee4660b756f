package io.earnidle.backend.fuzz;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Supplier;

import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/**
 * The routes an application registers, read from its own routing code: {@link #of} hands it a recording
 * {@link HttpRouting.Builder} that follows every {@code register(prefix, services)} into the services' own
 * {@code routing(HttpRules)} and notes each {@code get/post/put/patch/delete/any(path, handler)} with its full path.
 * A route added in a way it cannot read (a prebuilt {@code HttpRoute}, a method predicate) is listed with the method
 * {@code UNREADABLE}, so a test over the table fails instead of missing it.
 */
public final class RouteTable {

    /** One registered route: an HTTP method ({@code ANY} for all of them) and the full path pattern. */
    public record Route(String method, String path) {
        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    private RouteTable() {
    }

    /** The routes {@code routing} registers, in registration order. */
    public static List<Route> of(Consumer<HttpRouting.Builder> routing) {
        List<Route> routes = new ArrayList<>();
        routing.accept((HttpRouting.Builder) recorder(HttpRouting.Builder.class, "", routes));
        return routes;
    }

    private static Object recorder(Class<?> type, String prefix, List<Route> routes) {
        Object[] self = new Object[1];
        InvocationHandler handler = (proxy, m, args) -> {
            record(m, args == null ? new Object[0] : args, prefix, routes);
            return m.getReturnType().isInstance(proxy) ? proxy : null;
        };
        self[0] = Proxy.newProxyInstance(RouteTable.class.getClassLoader(), new Class<?>[] {type}, handler);
        return self[0];
    }

    private static void record(Method m, Object[] args, String prefix, List<Route> routes) {
        String name = m.getName();
        switch (name) {
            case "register" -> {
                String at = prefix;
                int from = 0;
                if (args.length > 0 && args[0] instanceof String p) {
                    at = join(prefix, p);
                    from = 1;
                }
                for (int i = from; i < args.length; i++) {
                    for (Object s : flatten(args[i])) {
                        HttpService service = s instanceof Supplier<?> sup ? (HttpService) sup.get() : (HttpService) s;
                        service.routing((HttpRules) recorder(HttpRules.class, at, routes));
                    }
                }
            }
            case "get", "post", "put", "patch", "delete", "head", "options", "trace", "any" -> routes.add(new Route(
                    name.toUpperCase(Locale.ROOT),
                    args.length > 0 && args[0] instanceof String p ? join(prefix, p) : prefix.isEmpty() ? "/" : prefix));
            case "route" -> {
                if (args.length == 3 && args[0] instanceof io.helidon.http.Method method && args[1] instanceof String p) {
                    routes.add(new Route(method.text(), join(prefix, p)));
                } else if (args.length == 2 && args[0] instanceof io.helidon.http.Method method) {
                    routes.add(new Route(method.text(), prefix.isEmpty() ? "/" : prefix));
                } else {
                    routes.add(new Route("UNREADABLE", prefix.isEmpty() ? "/" : prefix));
                }
            }
            default -> {
                // filters, error handlers, features and settings add no route
            }
        }
    }

    private static List<Object> flatten(Object arg) {
        if (arg instanceof Object[] array) {
            return List.of(array);
        }
        if (arg instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        return List.of(arg);
    }

    private static String join(String prefix, String path) {
        String p = path.equals("/") || path.isEmpty() ? "" : path.startsWith("/") ? path : "/" + path;
        String joined = (prefix.equals("/") ? "" : prefix) + p;
        return joined.isEmpty() ? "/" : joined;
    }
}
