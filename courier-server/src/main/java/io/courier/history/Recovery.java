package io.courier.history;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * The answer to a subscribe on a history topic: the position the subscriber now stands at, whether
 * its own position could be served in full ({@code null} when it gave none), and the frames to
 * replay, in offset order (empty unless {@code recovered} is true). The caller owns the frames.
 * {@code handle} is the engine's own (what {@link HistoryEngine#live} needs), null on a single node.
 */
public record Recovery(Position position, Boolean recovered, List<ByteBuf> replay, Object handle) {}
