package io.courier.bench;

import io.netty.buffer.ByteBuf;

/**
 * The message object every bench publish carries: {@code {"p":P,"seq":S,"t":T,"pad":"xx…"}}.
 * {@code p} names the publisher, {@code seq} counts that publisher's messages to that topic from 0
 * (so each subscriber can check order and gaps per publisher), and {@code t} is when the message
 * was due, in microseconds since the run's epoch: its intended send time for a paced publisher, so
 * a publisher that falls behind shows up as latency instead of hiding it (no coordinated omission).
 * Padding fills the object to the requested size; a size below the header alone (about 30 bytes)
 * gets no padding.
 */
final class Publication {
    static final int MIN_BYTES = 1;

    private static final String PAD_FIELD = ",\"pad\":\"";

    private Publication() {}

    /** Appends the message object of {@code sizeBytes} (or just the header, if that is longer). */
    static void write(StringBuilder s, int publisher, long seq, long dueMicros, int sizeBytes) {
        int start = s.length();
        s.append("{\"p\":")
                .append(publisher)
                .append(",\"seq\":")
                .append(seq)
                .append(",\"t\":")
                .append(dueMicros);
        int pad = sizeBytes - (s.length() - start) - PAD_FIELD.length() - 2;
        if (pad > 0) {
            s.append(PAD_FIELD);
            for (int i = 0; i < pad; i++) {
                s.append('x');
            }
            s.append('"');
        }
        s.append('}');
    }

    /** Bytes enough for the header of any message {@link #write} produces (at most 59). */
    static final int HEADER_BYTES = 64;

    /**
     * Reads {@code p}, {@code seq} and {@code t} of a message object starting at {@code from} into
     * {@code out[0..2]}; false when the bytes there are not one {@link #write} produced.
     * {@code scratch} (at least {@link #HEADER_BYTES}) takes a copy of the header: one bounds-checked
     * copy instead of one check per byte, which made this the subscribers' largest cost.
     */
    static boolean read(ByteBuf in, int from, int to, byte[] scratch, long[] out) {
        int length = Math.min(Math.min(scratch.length, HEADER_BYTES), to - from);
        if (length <= 0) {
            return false;
        }
        in.getBytes(from, scratch, 0, length);
        int i = expect(scratch, 0, length, "{\"p\":");
        i = number(scratch, i, length, out, 0);
        i = expect(scratch, i, length, ",\"seq\":");
        i = number(scratch, i, length, out, 1);
        i = expect(scratch, i, length, ",\"t\":");
        i = number(scratch, i, length, out, 2);
        return i >= 0;
    }

    private static int expect(byte[] in, int i, int to, String ascii) {
        if (i < 0 || i + ascii.length() > to) {
            return -1;
        }
        for (int j = 0; j < ascii.length(); j++) {
            if (in[i + j] != ascii.charAt(j)) {
                return -1;
            }
        }
        return i + ascii.length();
    }

    private static int number(byte[] in, int i, int to, long[] out, int slot) {
        if (i < 0) {
            return -1;
        }
        long value = 0;
        int start = i;
        for (byte c; i < to && (c = in[i]) >= '0' && c <= '9'; i++) {
            value = value * 10 + (c - '0');
        }
        out[slot] = value;
        return i > start ? i : -1;
    }
}
