package io.hoist.broker.http;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** /healthz and /readyz on a real listener: liveness fails only when the broker cannot serve at all. */
class HealthEndpointsTest {
    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void healthzFailsWhenTheEngineIsDead_whileReadyzReportsOtherProblems() throws Exception {
        AtomicReference<String> dead = new AtomicReference<>();
        AtomicReference<String> notReady = new AtomicReference<>();
        try (HttpEndpoints http = new HttpEndpoints("127.0.0.1", 0, null, MetricsAccess.OPEN, dead::get, notReady::get,
                () -> "")) {
            assertThat(get(http, "/healthz").statusCode()).isEqualTo(200);
            assertThat(get(http, "/readyz").statusCode()).isEqualTo(200);

            notReady.set("disk almost full");
            assertThat(get(http, "/healthz").statusCode()).as("a full disk is no reason to restart").isEqualTo(200);
            assertThat(get(http, "/readyz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).contains("disk almost full");
            });

            dead.set("the engine thread has stopped");
            assertThat(get(http, "/healthz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).contains("engine thread has stopped").contains("restart");
            });
        }
    }

    private HttpResponse<String> get(HttpEndpoints http, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
