package io.courier.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetBasedJWKSource;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.OutageTolerantJWKSetSource;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.events.Event;
import io.courier.config.ConfigException;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verification keys an issuer publishes at {@code courier.jwt.jwks.url}: fetched and cached by
 * nimbus's JWK source, handed to token verification from memory.
 *
 * <p>Why a snapshot in front of nimbus: {@link TokenVerifier} runs on the Netty event loop, and
 * nimbus's JWK source fetches on the caller's thread whenever its cache is empty, expired or lacks a
 * token's {@code kid} (an HTTP request of up to twice {@link Timing#httpTimeout}, or, on a busy
 * source, a wait of up to 15 s for another thread's fetch). One slow identity provider would stall
 * every connection on that loop. So nimbus is only ever called on one background thread,
 * {@code courier-jwks}, and {@link #get} only reads a volatile snapshot of the last set nimbus
 * returned: no I/O, no lock, no wait.
 * <ul>
 *   <li>Start: the first fetch is queued on that thread, so construction does no network I/O and
 *       startup does not fail while the URL is down (a warning is logged, tokens are refused with
 *       {@code unknown_key} until a set arrives).
 *   <li>Every {@link Timing#pollInterval} the thread asks nimbus for its set, which re-fetches once its
 *       cache ({@link Timing#cacheTtl}) has expired.
 *   <li>A token whose {@code kid} is not in the snapshot is refused at once and queues one refresh;
 *       misses while it is queued or running add nothing, and nimbus's rate limiter allows at most two
 *       fetches per {@link Timing#minRefreshInterval}, so a flood of made-up kids costs the issuer at
 *       most that. The price of never blocking: after a rotation, the first token signed with a key
 *       nobody has fetched yet is refused, and the client's retry succeeds. Issuers normally publish a
 *       key well before signing with it, so the regular re-fetch usually has it already.
 *   <li>A failed fetch changes nothing: the last good set stays in force while the URL is down (logged
 *       when it goes down and when it is back). Inside nimbus the outage-tolerant layer does the same
 *       for its cache, so a failed re-fetch at expiry does not empty it, and a down URL is retried once
 *       per cache lifetime (and on unknown kids) instead of at every poll.
 * </ul>
 * Nimbus's refresh-ahead cache is off: it exists to keep request threads from blocking at cache
 * expiry, and no request thread calls nimbus here (it would also start a thread pool of its own).
 *
 * <p>Hazard: keys removed from the JWK set stay trusted until the next successful fetch, so a
 * revoked key stays valid for up to {@link Timing#cacheTtl} plus {@link Timing#pollInterval}, and for
 * as long as the URL is unreachable. Keys that do not fit the configured algorithm (another key type
 * or {@code alg}, {@code use=enc}, RSA under 2048 bits, HMAC secrets) are dropped when a set is taken.
 *
 * <p>{@link #get}: any thread, lock-free. Everything else: the {@code courier-jwks} thread only.
 */
final class JwksCache implements JWKSource<SecurityContext>, AutoCloseable {
    static final String KEY = "courier.jwt.jwks.url";
    private static final Logger log = LoggerFactory.getLogger(JwksCache.class);

    /**
     * @param cacheTtl           how long nimbus keeps a fetched set before fetching it again
     * @param minRefreshInterval nimbus's rate limit: at most two fetches per this interval
     * @param pollInterval       how often the background thread takes nimbus's current set
     * @param httpTimeout        connect and read timeout of one fetch
     */
    record Timing(Duration cacheTtl, Duration minRefreshInterval, Duration pollInterval, Duration httpTimeout) {
        /** nimbus's defaults for the cache and the rate limit; 2 s timeouts because nobody waits for a fetch. */
        static final Timing DEFAULT = new Timing(
                Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(2));
    }

    private final URL url;
    private final JWSAlgorithm algorithm;
    private final JWKSetSource<SecurityContext> source;
    private final ScheduledExecutorService background;
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private volatile JWKSet snapshot = new JWKSet();

    // Background thread only.
    private JWKSet lastFetched;
    private boolean failing;
    private Exception outage;

    private JwksCache(URL url, JWSAlgorithm algorithm, Timing timing) {
        this.url = url;
        this.algorithm = algorithm;
        int timeoutMillis = Math.toIntExact(timing.httpTimeout().toMillis());
        JWKSource<SecurityContext> built = JWKSourceBuilder.<SecurityContext>create(
                        url,
                        new DefaultResourceRetriever(
                                timeoutMillis, timeoutMillis, JWKSourceBuilder.DEFAULT_HTTP_SIZE_LIMIT))
                .cache(timing.cacheTtl().toMillis(), JWKSourceBuilder.DEFAULT_CACHE_REFRESH_TIMEOUT)
                .refreshAheadCache(false)
                .rateLimited(timing.minRefreshInterval().toMillis())
                .outageTolerant(Long.MAX_VALUE, this::outage)
                .build();
        // Without a failover source, build() returns a JWKSetBasedJWKSource; its set source lets us ask for the whole
        // set.
        this.source = ((JWKSetBasedJWKSource<SecurityContext>) built).getJWKSetSource();
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "courier-jwks");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts fetching in the background; returns at once, without network I/O. */
    static JwksCache start(URI uri, JWSAlgorithm algorithm, Timing timing) {
        URL url;
        try {
            url = uri.toURL();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new ConfigException(KEY, "'" + uri + "' is not a URL (" + e.getMessage() + ")");
        }
        JwksCache cache = new JwksCache(url, algorithm, timing);
        cache.background.scheduleWithFixedDelay(
                cache::poll, 0, timing.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
        return cache;
    }

    /** The keys of the last set fetched that match; on a miss, queues a refresh. Never blocks. */
    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) {
        JWKSet current = snapshot;
        List<JWK> keys = selector.select(current);
        if (keys.isEmpty()) {
            refreshSoon(current);
        }
        return keys;
    }

    /** Stops the background thread; fetches in flight are interrupted. */
    @Override
    public void close() {
        background.shutdownNow();
        try {
            source.close();
        } catch (IOException e) {
            log.debug("closing the JWK source of {}: {}", url, e.toString());
        }
    }

    // ---------------------------------------------------------------- background thread

    private void refreshSoon(JWKSet missedIn) {
        if (!refreshQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            background.execute(() -> refresh(missedIn));
        } catch (RejectedExecutionException closed) {
            refreshQueued.set(false);
        }
    }

    private void poll() {
        fetch(JWKSetCacheRefreshEvaluator.noRefresh());
    }

    private void refresh(JWKSet missedIn) {
        try {
            // A set taken since the miss (the first fetch, say) may hold the kid; the client's retry is judged against
            // it.
            if (missedIn == snapshot) {
                fetch(JWKSetCacheRefreshEvaluator.forceRefresh());
            }
        } finally {
            // Cleared only now, so that the misses of one burst share one fetch.
            refreshQueued.set(false);
        }
    }

    private void fetch(JWKSetCacheRefreshEvaluator evaluator) {
        outage = null;
        JWKSet fetched = null;
        Exception failure;
        try {
            fetched = source.getJWKSet(evaluator, System.currentTimeMillis(), null);
            // The outage-tolerant layer answers a failed fetch with the set it kept, and tells only its listener.
            failure = outage;
        } catch (RateLimitReachedException e) {
            log.debug("JWKS {}: refresh skipped, rate limit reached", url);
            return;
        } catch (KeySourceException | RuntimeException e) {
            // Caught, not thrown: an exception would cancel the scheduled poll for good.
            failure = e;
        }
        if (failure == null && fetched == lastFetched) {
            return; // answered from nimbus's cache: nothing fetched, nothing learnt
        }
        if (failure != null && !failing) {
            log.warn(
                    "JWKS {} unavailable ({}); {}",
                    url,
                    failure.getMessage(),
                    snapshot.isEmpty() ? "tokens are refused until it answers" : "keeping the last good set");
        } else if (failure == null && failing) {
            log.info("JWKS {} available again", url);
        }
        failing = failure != null;
        if (fetched != null) {
            lastFetched = fetched;
            publish(fetched);
        }
    }

    private void publish(JWKSet fetched) {
        List<JWK> usable = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (JWK key : fetched.getKeys()) {
            Optional<String> problem = JwtKeys.unfit(key, algorithm);
            if (problem.isPresent()) {
                dropped.add(key.getKeyID() + ": " + problem.get());
            } else {
                usable.add(key.toPublicJWK());
            }
        }
        JWKSet next = new JWKSet(usable);
        if (!kids(next).equals(kids(snapshot))) {
            log.info(
                    "JWKS {}: {} {} keys, kids {}{}",
                    url,
                    usable.size(),
                    algorithm,
                    kids(next),
                    dropped.isEmpty() ? "" : "; ignored " + dropped);
        }
        snapshot = next;
    }

    private static List<String> kids(JWKSet set) {
        return set.getKeys().stream()
                .map(k -> Objects.toString(k.getKeyID(), "(none)"))
                .toList();
    }

    /** Called by nimbus, on the background thread, inside {@link #fetch}. */
    private void outage(Event<OutageTolerantJWKSetSource<SecurityContext>, SecurityContext> event) {
        if (event instanceof OutageTolerantJWKSetSource.OutageEvent<?> e) {
            outage = e.getException();
        }
    }
}
