package io.courier.hub;

/** Told what each fan-out batch did. Called on event loops, per batch or per publish, never per delivery; must be cheap. */
public interface FanoutListener {
    FanoutListener NONE = new FanoutListener() {
        @Override
        public void delivered(long deliveries) {}

        @Override
        public void fannedOut(long nanos) {}
    };

    /** Frames handed to connections by one batch. */
    void delivered(long deliveries);

    /** Time from a publish entering the hub to its last write on one event loop being flushed. */
    void fannedOut(long nanos);
}
