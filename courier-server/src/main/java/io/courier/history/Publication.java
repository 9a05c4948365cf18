package io.courier.history;

import io.netty.buffer.ByteBuf;

/** One retained message for {@code GET /v1/history}: its offset and its bytes (owned by the caller). */
public record Publication(long offset, ByteBuf message) {}
