package io.courier.store;

/**
 * The outcome of an idempotent create.
 *
 * @param value   the stored record: the new one, or the one that already existed
 * @param created true only for the one call that inserted it
 */
public record Created<T>(T value, boolean created) {}
