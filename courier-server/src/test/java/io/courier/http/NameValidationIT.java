package io.courier.http;

import static io.courier.http.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import io.courier.error.ErrorCode;
import io.courier.testing.CourierExtension;
import io.courier.testing.JsonField;
import io.courier.testing.TestPostgres;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Names that identify a tenant, subject or topic are well-formed Unicode without control characters
 * (issue 10, item 2). The tokens here are validly signed, with the bad name written as a JSON escape
 * ({@code "aud":"tenant\ud800"}), which is how a hostile or careless issuer would hand one out.
 */
class NameValidationIT {
    @RegisterExtension
    static final CourierExtension server = CourierExtension.withDefaults();

    @Test
    void surrogateAudienceDoesNotCrossIntoTheAudienceItWouldBeReplacedBy() {
        String base = "tenant-" + UUID.randomUUID();
        String victim = server.setUp(base + "?", "news");
        String attacker = signed(base + "\ud800", "mallory");

        // Before the fix the attacker could create "<base>\ud800", and /v1/sign then handed out a key that
        // ConnectionKeys had encoded as "<base>?": the socket was greeted with the victim's audience.
        assertError(server.post("/v1/audience", attacker, ""), 401, ErrorCode.ETOKEN_INVALID);
        assertError(server.get("/v1/sign", attacker), 401, ErrorCode.ETOKEN_INVALID);
        assertError(server.get("/v1/topic", attacker), 401, ErrorCode.ETOKEN_INVALID);
        assertError(server.post("/v1/topic", attacker, "{\"topic\":\"planted\"}"), 401, ErrorCode.ETOKEN_INVALID);
        assertError(
                server.post(
                        "/v1/hook",
                        attacker,
                        "{\"action\":\"publish\",\"topic\":\"news\",\"message\":{\"forged\":true}}"),
                401,
                ErrorCode.ETOKEN_INVALID);

        try (WsClient client = server.connect(victim)) {
            client.send("{\"action\":\"subscribe\",\"topic\":\"news\",\"id\":1}");
            assertEquals("ack", JsonField.get(client.next(), "action"));
            server.post("/v1/hook", victim, "{\"action\":\"publish\",\"topic\":\"news\",\"message\":{\"n\":1}}");
            assertEquals(
                    "1",
                    JsonField.get(client.next(), "message.n"),
                    "the victim's own publish, and nothing forged before it");
        }
    }

    @ParameterizedTest(name = "aud {0}")
    @ValueSource(
            strings = {
                "\ud800tenant",
                "ten\udc00ant",
                "tenant\udbff",
                "tenant\u0000",
                "tenant\n",
                "tenant\u001b[31m",
                "tenant\u007f",
                "tenant\u0085"
            })
    void audienceThatIsNotAWellFormedNameIsUnauthorized(String suffix) {
        String token = signed("aud-" + UUID.randomUUID() + suffix, "user-1");
        assertError(server.post("/v1/audience", token, ""), 401, ErrorCode.ETOKEN_INVALID);
        assertError(server.get("/v1/sign", token), 401, ErrorCode.ETOKEN_INVALID);
    }

    @ParameterizedTest(name = "sub {0}")
    @ValueSource(strings = {"user\ud800", "\udc00user", "user\u0000", "user\r\nlevel=ERROR"})
    void subjectThatIsNotAWellFormedNameIsUnauthorized(String subject) {
        String audience = TestServer.uniqueAudience();
        server.setUp(audience);
        assertError(server.get("/v1/sign", signed(audience, subject)), 401, ErrorCode.ETOKEN_INVALID);
    }

    @Test
    void astralCharactersAreNamesLikeAnyOther() {
        String audience = "aud-\ud83d\ude00-" + UUID.randomUUID();
        String token = signed(audience, "\ud834\udd1e");
        assertEquals(201, server.post("/v1/audience", token, "").statusCode());
        assertEquals(
                201,
                server.post("/v1/topic", token, "{\"topic\":\"news-\\ud83d\\ude00\"}")
                        .statusCode());
        try (WsClient client = server.connect(token)) {
            client.send("{\"action\":\"subscribe\",\"topic\":\"news-\ud83d\ude00\",\"id\":1}");
            assertEquals("ack", JsonField.get(client.next(), "action"));
        }
    }

    @ParameterizedTest(name = "topic {0}")
    @ValueSource(strings = {"news\\ud800", "\\udc00news", "ne\\udbffws", "news\\u0000"})
    void topicWithLoneSurrogateOrNulIsUnprocessableOverRest(String escapedTopic) {
        String token = server.setUp(TestServer.uniqueAudience(), "news");
        assertError(
                server.post("/v1/topic", token, "{\"topic\":\"" + escapedTopic + "\"}"), 422, ErrorCode.ETOPIC_INVALID);
        assertError(
                server.post(
                        "/v1/hook",
                        token,
                        "{\"action\":\"publish\",\"topic\":\"" + escapedTopic + "\",\"message\":{}}"),
                422,
                ErrorCode.ETOPIC_INVALID);
    }

    @ParameterizedTest(name = "topic {0}")
    @ValueSource(strings = {"news\\ud800", "\\udc00news", "news\\u0000"})
    void topicWithLoneSurrogateOrNulIsRefusedOverTheSocket(String escapedTopic) {
        String token = server.setUp(TestServer.uniqueAudience(), "news");
        try (WsClient client = server.connect(token)) {
            for (String action : new String[] {"subscribe", "publish"}) {
                client.send(
                        "{\"action\":\"" + action + "\",\"topic\":\"" + escapedTopic + "\",\"message\":{},\"id\":7}");
                String reply = client.next();
                assertEquals("error", JsonField.get(reply, "action"), reply);
                assertEquals("ETOPIC_INVALID", JsonField.get(reply, "code"), reply);
            }
            client.send("{\"action\":\"subscribe\",\"topic\":\"news\",\"id\":8}");
            assertEquals("ack", JsonField.get(client.next(), "action"), "the connection stays open");
        }
    }

    @Test
    void nulAndSurrogatesInAudienceAreUnauthorizedOnPostgres() {
        assumeTrue(TestPostgres.url().isPresent(), TestPostgres::skipReason);
        String namespace = TestPostgres.freshNamespace("courier_names_");
        try (TestServer pg = TestServer.start(
                Map.of("courier.database.url", TestPostgres.url().get(), "courier.database.namespace", namespace))) {
            String base = "P-" + UUID.randomUUID();
            // Before the fix: NUL was 500 EINTERNAL with a stack trace, and pgjdbc encoded both surrogates as '?'.
            for (String suffix : new String[] {"\u0000", "\ud800", "\udc00", "\u0001"}) {
                String token = signed(base + suffix, "user-1");
                HttpResponse<String> created = pg.post("/v1/audience", token, "");
                assertError(created, 401, ErrorCode.ETOKEN_INVALID);
                assertError(pg.get("/v1/topic", token), 401, ErrorCode.ETOKEN_INVALID);
            }
            String plain = pg.token(base + "?");
            assertEquals(201, pg.post("/v1/audience", plain, "").statusCode(), "P? itself is a fine name");
            HttpResponse<String> topics = pg.get("/v1/topic", plain);
            assertEquals(200, topics.statusCode(), topics.body());
            assertNotEquals(null, topics.body());
        } finally {
            TestPostgres.drop(namespace);
        }
    }

    /** An HS256 token for the test server with {@code aud} and {@code sub} written as JSON escapes, exactly as given. */
    static String signed(String audience, String subject) {
        long now = Instant.now().getEpochSecond();
        String json = "{\"aud\":\"" + escape(audience) + "\",\"sub\":\"" + escape(subject) + "\",\"iat\":" + now
                + ",\"exp\":" + (now + 3600) + "}";
        JWSObject jws = new JWSObject(
                new JWSHeader.Builder(JWSAlgorithm.HS256)
                        .type(JOSEObjectType.JWT)
                        .build(),
                new Payload(json));
        try {
            jws.sign(new MACSigner(TestServer.SECRET.getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jws.serialize();
    }

    /** JSON string escape to pure ASCII: every char outside printable ASCII becomes backslash-u and four hex digits. */
    private static String escape(String s) {
        StringBuilder out = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') {
                out.append('\\').append(ch);
            } else if (ch < 0x20 || ch > 0x7e) {
                out.append(String.format("\\u%04x", (int) ch));
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }
}
