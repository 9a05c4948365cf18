package io.courier.history;

/**
 * Where a topic's stream stands: the offset of its latest message (0 before the first) within an
 * epoch. Offsets only grow within one epoch; a new epoch means earlier offsets mean nothing.
 */
public record Position(long offset, String epoch) {}
