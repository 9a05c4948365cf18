package io.courier.store;

import io.courier.config.HistorySettings;
import java.util.List;
import java.util.Optional;

/**
 * Durable audiences and topics.
 *
 * <p>Implementations must guarantee:
 * <ul>
 *   <li>Blocking; callers run it off the event loop. Thread-safe.</li>
 *   <li>Every method fails with {@code CourierException(EDB_UNAVAILABLE)} within about the configured
 *       database timeout when the database cannot be reached, and works again once it returns.</li>
 *   <li>Uniqueness holds under concurrency, across threads and across servers sharing one database:
 *       it is enforced by the database, not by a check-then-insert in memory.</li>
 *   <li>Times have microsecond precision, so a record read back equals the one returned at creation.</li>
 * </ul>
 * Names are compared exactly (case-sensitive) and are at most 255 characters; callers validate them.
 */
public interface Store extends AutoCloseable {

    /**
     * Creates the audience, or returns the existing one with {@code created == false}. Of any number of
     * concurrent calls for one name, exactly one reports {@code created == true}.
     */
    Created<Audience> createAudience(String name);

    Optional<Audience> findAudience(String name);

    /**
     * @throws io.courier.error.CourierException {@code EAUD_NOTFOUND} if the audience does not exist,
     *         {@code ETOPIC_EXISTS} if the audience already has a topic of that name (also when a
     *         concurrent call created it first)
     */
    Topic createTopic(String audience, String topic, HistorySettings history);

    /**
     * The audience's topics, oldest first; topics created in the same microsecond are ordered by name.
     *
     * @throws io.courier.error.CourierException {@code EAUD_NOTFOUND} if the audience does not exist
     */
    List<Topic> listTopics(String audience);

    /** The topic, or empty when the audience has no topic of that name (or does not exist). */
    Optional<Topic> findTopic(String audience, String topic);

    /** Every topic of every audience, for warming an in-memory cache at startup. */
    List<Topic> allTopics();

    /** True when a trivial query succeeds within the configured timeout. Never throws. */
    boolean isReady();

    @Override
    void close();
}
