package io.earnidle.backend.workers;

import io.helidon.webserver.http.HttpRouting;

/** Mounts the worker surfaces: {@code /api/workers}, {@code /workers} and {@code /badge}. */
public final class Workers {
    private Workers() {
    }

    public static void register(HttpRouting.Builder routing, WorkerCards cards) {
        routing.register("/api/workers", WorkerService.api(cards))
                .register("/workers", WorkerService.page(cards))
                .register("/badge", new BadgeService(cards));
    }
}
