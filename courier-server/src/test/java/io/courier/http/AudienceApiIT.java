package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static io.courier.http.ApiAssertions.assertStatus;
import static io.courier.http.ApiAssertions.assertTimestamp;
import static io.courier.http.ApiAssertions.assertUuid;
import static io.courier.http.ApiAssertions.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /v1/audience} over real HTTP: the token's audience is created once and then returned as is. */
class AudienceApiIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @Test
    void firstCreateIs201AndRepeatIs200WithTheIdenticalRecord() {
        String audience = TestServer.uniqueAudience();
        String token = server.token(audience);

        HttpResponse<String> first = server.post("/v1/audience", token, "");
        HttpResponse<String> second = server.post("/v1/audience", token, "");

        assertStatus(201, first);
        assertStatus(200, second);
        ApiAssertions.assertJsonContentType(
                first.headers().firstValue("Content-Type").orElse(null), first.body());
        ApiAssertions.assertJsonContentType(
                second.headers().firstValue("Content-Type").orElse(null), second.body());
        assertEquals(object(first.body()), object(second.body()));
    }

    @Test
    void audienceRecordHasIdNameAndRfc3339Times() {
        String audience = TestServer.uniqueAudience();
        Instant before = Instant.now().minusSeconds(1);

        HttpResponse<String> created = server.post("/v1/audience", server.token(audience), "");

        assertStatus(201, created);
        Map<String, String> record = object(created.body());
        assertEquals(Set.of("id", "name", "created_at", "updated_at"), record.keySet());
        assertUuid(record.get("id"));
        assertEquals(audience, record.get("name"));
        Instant createdAt = assertTimestamp(record.get("created_at"));
        Instant updatedAt = assertTimestamp(record.get("updated_at"));
        assertFalse(createdAt.isBefore(before), "created_at " + createdAt + " before the request");
        assertFalse(updatedAt.isBefore(createdAt), "updated_at " + updatedAt + " before created_at " + createdAt);
    }

    @Test
    void audienceIsNamedByTheTokenNotByTheBody() {
        String audience = TestServer.uniqueAudience();
        String other = TestServer.uniqueAudience();

        HttpResponse<String> created =
                server.post("/v1/audience", server.token(audience), "{\"name\":\"" + other + "\"}");

        assertStatus(201, created);
        assertEquals(audience, object(created.body()).get("name"));
        // The name in the body created nothing.
        assertError(server.get("/v1/topic", server.token(other)), 404, ErrorCode.EAUD_NOTFOUND);
    }

    @Test
    void differentAudiencesGetDifferentIds() {
        HttpResponse<String> a = server.post("/v1/audience", server.token(TestServer.uniqueAudience()), "");
        HttpResponse<String> b = server.post("/v1/audience", server.token(TestServer.uniqueAudience()), "");

        assertStatus(201, a);
        assertStatus(201, b);
        assertFalse(object(a.body()).get("id").equals(object(b.body()).get("id")), "two audiences share an id");
    }

    @Test
    void concurrentCreatesOfOneAudienceYieldOneCreatedAndTheSameRecord() throws Exception {
        String token = server.token(TestServer.uniqueAudience());
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            HttpRequest request = HttpRequest.newBuilder(server.uri("/v1/audience"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build();
            calls.add(server.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        int created = 0;
        Set<Map<String, String>> records = new HashSet<>();
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.join();
            if (response.statusCode() == 201) {
                created++;
            } else {
                assertStatus(200, response);
            }
            records.add(object(response.body()));
        }
        assertEquals(1, created, "exactly one request creates the audience");
        assertEquals(1, records.size(), "every answer is the same record: " + records);
    }

    @Test
    void signBeforeTheAudienceExistsIsAudienceNotFound() {
        assertError(server.get("/v1/sign", server.token(TestServer.uniqueAudience())), 404, ErrorCode.EAUD_NOTFOUND);
    }

    @Test
    void audienceOf255CharactersIsAccepted() {
        String audience = (TestServer.uniqueAudience() + "-" + "a".repeat(255)).substring(0, 255);

        HttpResponse<String> created = server.post("/v1/audience", server.token(audience), "");

        assertStatus(201, created);
        assertEquals(audience, object(created.body()).get("name"));
    }

    @Test
    void audienceLongerThanTheStoreHoldsIsRefusedAsBadTokenNotInternalError() {
        // The name column is varchar(255): a longer aud must be refused before the insert fails in
        // the database and the client gets 500 EINTERNAL.
        String audience = TestServer.uniqueAudience() + "-" + "a".repeat(300);

        HttpResponse<String> response = server.post("/v1/audience", server.token(audience), "");

        assertError(response, 401, ErrorCode.ETOKEN_INVALID);
    }
}
