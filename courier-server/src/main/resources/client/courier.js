// courier.js: the Courier client. One ES module, no dependencies; served by the server at
// /client/courier.js. Works in browsers, in Node 22+ (global WebSocket) and in older Node given a
// WebSocket implementation (new Courier({ WebSocket: require("ws") })). See the README's client section.

/** Close codes that mean "fix the client": never retried without a change (README, close codes). */
const FATAL_CLOSE = new Set([1002, 1003, 1007, 1009]);
/** The server says the bearer token expired: fetch a fresh one, then reconnect. */
const TOKEN_EXPIRED = 4001;
/**
 * A history topic lost a message between the nodes of a cluster (an EHISTORY_GAP error frame comes
 * first): reconnect at once and resubscribe with `since`, which fills the gap (docs/history.md).
 */
const INSUFFICIENT_STATE = 3010;
/** Refusals of a subscribe that say "retry later" (503s: NATS or the database away, overloaded). */
const RETRY_LATER = new Set(["EUNAVAILABLE", "ECLUSTER_UNAVAILABLE", "EDB_UNAVAILABLE", "EOVERLOADED"]);

/** An error with the server's stable code (ETOPIC_NOTFOUND, ...) or one of the client's own. */
export class CourierError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.name = "CourierError";
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** One application handler on one topic; subscriptions survive reconnects until unsubscribed. */
class Subscription {
  constructor(courier, topic, handler) {
    this.topic = topic;
    this.active = true;
    this._courier = courier;
    this._handler = handler;
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    // Awaiting sub.ready is optional: a failure is also an "error" event, never an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** Where this topic's history stands ({offset, epoch}), or null on a topic without history. */
  get position() {
    const t = this._courier._topics.get(this.topic);
    return t && t.position ? { ...t.position } : null;
  }

  unsubscribe() {
    if (!this.active) return;
    this.active = false;
    this._courier._drop(this);
  }
}

export class Courier {
  /**
   * @param {object} options
   * @param {string} options.api base URL of the server, e.g. "https://courier.example.com"
   * @param {string|function(): (string|Promise<string>)} options.token the bearer JWT, or a function
   *   returning it, called again whenever the server says the token expired (close 4001, 401 on /v1/sign)
   */
  constructor(options) {
    if (!options || typeof options.api !== "string") throw new TypeError("new Courier({ api, token }): api must be a URL string");
    if (typeof options.token !== "string" && typeof options.token !== "function") {
      throw new TypeError("new Courier({ api, token }): token must be a string or a function");
    }
    this.api = options.api.replace(/\/+$/, "");
    this.state = "disconnected";
    this.audience = null;
    this.connectionId = null;
    this._tokenSource = options.token;
    this._token = typeof options.token === "string" ? options.token : null;
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    if (typeof this._WebSocket !== "function") {
      throw new TypeError("no global WebSocket here (Node before 22): pass one, new Courier({ WebSocket: require(\"ws\"), ... })");
    }
    this._fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this._minDelayMs = options.minDelayMs ?? 500;
    this._maxDelayMs = options.maxDelayMs ?? 30000;
    this._ackTimeoutMs = options.ackTimeoutMs ?? 10000;
    this._listeners = new Map();
    this._topics = new Map(); // topic -> { subs: Set<Subscription>, position: {offset, epoch}|null, acked: bool, retries: number }
    this._pending = new Map(); // frame id -> { resolve, reject, timer, onAck? }
    this._nextId = 1;
    this._ws = null;
    this._run = null; // the connection loop while wanted
    this._wake = null;
  }

  // ---------------------------------------------------------------- events

  /** Adds a listener: connected, disconnected, reconnecting, subscribed, error, broadcast, recovery, state. Returns a remover. */
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this.off(event, listener);
  }

  off(event, listener) {
    const set = this._listeners.get(event);
    if (set) set.delete(listener);
  }

  _emit(event, value) {
    for (const listener of [...(this._listeners.get(event) || [])]) {
      try {
        listener(value);
      } catch (e) {
        // A listener's bug must not break the connection: report it where the page sees it.
        setTimeout(() => { throw e; });
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  // ---------------------------------------------------------------- connection

  /**
   * Connects and keeps reconnecting until disconnect(). Resolves once connected; rejects when the
   * server refuses for good (a token refused after a refresh, an audience that does not exist, a
   * close code that means the client must change).
   */
  connect() {
    if (this._run) return this._run.connected;
    let resolve, reject;
    const connected = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this._run = { connected, resolve, reject, stopped: false };
    this._loop(this._run);
    return connected;
  }

  /** Closes the socket (1000) and stops reconnecting. Subscriptions are kept for a later connect(). */
  disconnect() {
    const run = this._run;
    if (!run) return;
    run.stopped = true;
    this._run = null;
    if (this._wake) this._wake();
    if (this._ws) this._ws.close(1000, "client disconnect");
    run.reject(new CourierError("EDISCONNECTED", "disconnect() was called"));
    this._setState("disconnected");
  }

  async _loop(run) {
    run.connected.catch(() => {}); // the caller may not await connect()
    let attempt = 0;
    let refreshToken = false;
    while (!run.stopped) {
      this._setState(run.everConnected ? "reconnecting" : "connecting");
      let outcome;
      try {
        const url = await this._signWithRefresh(refreshToken);
        refreshToken = false;
        if (run.stopped) return;
        outcome = await this._open(url, run);
      } catch (error) {
        outcome = { error };
      }
      if (run.stopped) return;
      if (outcome.opened) attempt = 0;
      const fatal = this._fatal(outcome);
      if (fatal) {
        this._stop(run, fatal);
        return;
      }
      if (outcome.code === TOKEN_EXPIRED) refreshToken = true;
      if (outcome.error) this._emit("error", outcome.error);
      // Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): spread reconnects of
      // many clients after a restart over the whole window instead of synchronising them.
      const cap = Math.min(this._maxDelayMs, this._minDelayMs * 2 ** Math.min(attempt, 20));
      // 3010 asks for an immediate reconnect (the server is up, only this socket's state is not); a
      // second 3010 in a row backs off as usual, so a gap that keeps recurring cannot make a tight loop.
      const gapOnce = outcome.code === INSUFFICIENT_STATE && !run.lastGap;
      run.lastGap = outcome.code === INSUFFICIENT_STATE;
      const delayMs = gapOnce ? 0 : Math.floor(Math.random() * cap);
      attempt++;
      this._setState("reconnecting");
      this._emit("reconnecting", { attempt, delayMs });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this._wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this._wake = null;
    }
  }

  /** The error that ends the loop, or null to retry. */
  _fatal(outcome) {
    if (outcome.error) {
      const code = outcome.error.code;
      // Retrying cannot help: the token was refused even fresh, the audience does not exist.
      if (code === "ETOKEN_INVALID" || code === "EAUD_NOTFOUND" || code === "ETOKEN_SOURCE") return outcome.error;
      return null;
    }
    if (FATAL_CLOSE.has(outcome.code)) {
      return new CourierError("ECLOSED", `closed with ${outcome.code} (${outcome.reason || "no reason"}): fix the client, then connect() again`);
    }
    return null;
  }

  _stop(run, error) {
    run.stopped = true;
    if (this._run === run) this._run = null;
    this._setState("disconnected");
    this._emit("error", error);
    run.reject(error);
  }

  /** GET /v1/sign: a fresh key for every attempt. A 401 fetches a fresh token and tries once more. */
  async _signWithRefresh(refresh) {
    if (refresh || this._token === null) await this._refreshToken();
    try {
      return (await this._request("GET", "/v1/sign")).url;
    } catch (e) {
      if (e.status !== 401 || typeof this._tokenSource !== "function") throw e;
      await this._refreshToken();
      return (await this._request("GET", "/v1/sign")).url;
    }
  }

  async _refreshToken() {
    if (typeof this._tokenSource !== "function") return;
    let token;
    try {
      token = await this._tokenSource();
    } catch (e) {
      // The application's token source failed (its auth server is down?): retry with back-off.
      throw new CourierError("ETOKEN_UNAVAILABLE", `the token function failed: ${e && e.message ? e.message : e}`);
    }
    if (typeof token !== "string" || token === "") {
      throw new CourierError("ETOKEN_SOURCE", "the token function must return a non-empty string");
    }
    this._token = token;
  }

  /** Opens one socket and resolves when it closes: { code, reason, opened }. */
  _open(url, run) {
    return new Promise((resolve) => {
      let ws;
      try {
        ws = new this._WebSocket(url);
      } catch (error) {
        resolve({ error: new CourierError("ECONNECT", `cannot open ${url.replace(/\?.*/, "")}: ${error.message}`) });
        return;
      }
      this._ws = ws;
      const socket = { ws, opened: false };
      ws.onmessage = (event) => this._frame(socket, run, event.data);
      ws.onerror = () => {}; // a close event follows, with the code
      ws.onclose = (event) => {
        if (this._ws === ws) this._ws = null;
        this._failPending(new CourierError("EDISCONNECTED", `connection closed (${event.code})`));
        for (const t of this._topics.values()) t.acked = false;
        if (socket.opened) {
          this._setState(run.stopped ? "disconnected" : "reconnecting");
          this._emit("disconnected", { code: event.code, reason: event.reason, wasClean: event.wasClean });
        }
        resolve({ code: event.code, reason: event.reason, opened: socket.opened });
      };
    });
  }

  _frame(socket, run, data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      this._emit("error", new CourierError("EFRAME_INVALID", "the server sent a frame that is not JSON"));
      return;
    }
    switch (frame.action) {
      case "connected": {
        socket.opened = true;
        this.audience = frame.audience;
        this.connectionId = frame.id;
        this._setState("connected");
        const reconnect = Boolean(run.everConnected);
        run.everConnected = true;
        for (const topic of this._topics.keys()) this._sendSubscribe(topic);
        this._emit("connected", { id: frame.id, audience: frame.audience, reconnect });
        run.resolve(this);
        return;
      }
      case "ack":
      case "error":
        this._answer(frame);
        return;
      case "publish":
        this._deliver(frame);
        return;
      case "broadcast":
        this._emit("broadcast", frame.message);
        return;
      default:
      // Unknown actions come from a newer server: ignore them.
    }
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Calls handler(message, meta) for every message published to topic, across reconnects.
   * meta: { topic, offset, epoch } (offset and epoch on topics with history).
   * @param {object} [options] { since: {offset, epoch} } to start from a known position (a history
   *   topic's sub.position or a delivery's meta, kept by the application, e.g. across page loads)
   */
  subscribe(topic, handler, options = {}) {
    if (typeof topic !== "string" || topic === "") throw new TypeError("subscribe(topic, handler): topic must be a non-empty string");
    if (typeof handler !== "function") throw new TypeError("subscribe(topic, handler): handler must be a function");
    const since = options.since;
    // The server refuses anything else with EHISTORY_INVALID; say so here, where the mistake is.
    if (since !== undefined && since !== null && !(Number.isSafeInteger(since.offset) && since.offset >= 0 && typeof since.epoch === "string")) {
      throw new TypeError("subscribe(topic, handler, { since }): since must be { offset: integer >= 0, epoch: string }");
    }
    const sub = new Subscription(this, topic, handler);
    let entry = this._topics.get(topic);
    if (entry) {
      entry.subs.add(sub);
      if (entry.acked) sub._resolve(sub);
      return sub;
    }
    entry = { subs: new Set([sub]), position: since ? { offset: since.offset, epoch: since.epoch } : null, acked: false, retries: 0 };
    this._topics.set(topic, entry);
    if (this.state === "connected") this._sendSubscribe(topic);
    return sub;
  }

  _sendSubscribe(topic) {
    const entry = this._topics.get(topic);
    const frame = { action: "subscribe", topic };
    const since = entry.position && typeof entry.position.epoch === "string" ? { offset: entry.position.offset, epoch: entry.position.epoch } : null;
    if (since) frame.since = since;
    const socket = this._ws;
    // The ack is handled as it is read, not in a promise callback: the replayed deliveries follow it
    // on the socket, and a runtime may hand several frames over before promise callbacks run (the
    // ws package does), so the position must be set before the next frame is looked at.
    const onAck = (ack) => {
      if (this._topics.get(topic) !== entry) return; // unsubscribed meanwhile
      entry.acked = true;
      entry.retries = 0;
      this._positioned(topic, entry, ack, since);
      for (const sub of entry.subs) sub._resolve(sub);
      this._emit("subscribed", { topic, position: entry.position ? { ...entry.position } : null });
    };
    this._call(frame, onAck).catch(
      (error) => {
        if (error.code === "EDISCONNECTED" || error.code === "ETIMEOUT") return; // resubscribed on reconnect
        if (RETRY_LATER.has(error.code)) {
          // The server could not read the topic's history (or its cluster) now: keep the
          // subscription and ask again on this socket, backing off as reconnects do (a new socket
          // asks anyway).
          error.topic = topic;
          this._emit("error", error);
          const cap = Math.min(this._maxDelayMs, this._minDelayMs * 2 ** Math.min(entry.retries++, 20));
          const delayMs = Math.floor(cap / 2 + (Math.random() * cap) / 2);
          setTimeout(() => {
            if (this._topics.get(topic) === entry && !entry.acked && this._ws === socket && this.state === "connected") this._sendSubscribe(topic);
          }, delayMs);
          return;
        }
        // The server holds no subscription: drop it so the application sees it is gone.
        if (this._topics.get(topic) === entry) this._topics.delete(topic);
        error.topic = topic;
        for (const sub of entry.subs) {
          sub.active = false;
          sub._reject(error);
        }
        this._emit("error", error);
      }
    );
  }

  /**
   * Where the topic stands after a subscribe's ack, and whether `since` was honoured (docs/history.md):
   * - a history topic's ack carries `position` (and `recovered` when `since` was sent);
   * - `since` on a topic without history is answered `recovered: false` without a position;
   * - a topic without history is acked with neither: nothing to track, no `since` next time.
   */
  _positioned(topic, entry, ack, since) {
    const recovered = ack.recovered === true;
    if (!ack.position) {
      entry.position = null;
    } else if (since && recovered) {
      // The replayed messages follow the ack and move the offset on from `since`.
      entry.position = { offset: since.offset, epoch: ack.position.epoch };
    } else {
      // First subscribe, or not recovered: go on from where the stream stands now.
      entry.position = { offset: ack.position.offset, epoch: ack.position.epoch };
    }
    if (since) {
      // recovered: false means messages after `since` are gone (a restarted single node's new epoch,
      // a trimmed history, a topic without history): the application reloads that topic's state
      // from its own source; the live messages after the ack follow either way.
      this._emit("recovery", { topic, recovered, since: { ...since }, position: ack.position ? { ...ack.position } : null });
    }
  }

  _deliver(frame) {
    const entry = this._topics.get(frame.topic);
    if (!entry) return;
    const meta = { topic: frame.topic };
    if (typeof frame.offset === "number") {
      if (entry.position && frame.offset <= entry.position.offset) return; // replayed twice: seen already
      entry.position = { offset: frame.offset, epoch: entry.position ? entry.position.epoch : undefined };
      meta.offset = frame.offset;
      meta.epoch = entry.position.epoch;
    }
    for (const sub of [...entry.subs]) {
      try {
        sub._handler(frame.message, meta);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }

  _drop(sub) {
    const entry = this._topics.get(sub.topic);
    if (!entry || !entry.subs.delete(sub) || entry.subs.size > 0) return;
    this._topics.delete(sub.topic);
    if (this.state === "connected") this._call({ action: "unsubscribe", topic: sub.topic }).catch(() => {});
  }

  // ---------------------------------------------------------------- publishing

  /** Publishes to a topic; resolves on the server's ack. Rejects at once while disconnected (no offline queue). */
  publish(topic, message) {
    return this._call({ action: "publish", topic, message });
  }

  /** Sends to every connection of the audience; resolves on the server's ack. Rejects at once while disconnected. */
  broadcast(message) {
    return this._call({ action: "broadcast", message });
  }

  /** Sends a frame with an id; resolves on its ack (after onAck(ack), called as the ack is read). */
  _call(frame, onAck) {
    const ws = this._ws;
    if (this.state !== "connected" || !ws || ws.readyState !== 1) {
      return Promise.reject(new CourierError("EDISCONNECTED", `not connected (${this.state}): nothing is queued, try again once connected`));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new CourierError("ETIMEOUT", `no answer to ${frame.action} within ${this._ackTimeoutMs} ms`));
      }, this._ackTimeoutMs);
      this._pending.set(id, { resolve, reject, timer, onAck });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  _answer(frame) {
    const pending = frame.id === undefined ? undefined : this._pending.get(frame.id);
    if (!pending) {
      if (frame.action === "error") {
        // Unasked errors: EHISTORY_GAP names its topic (close 3010 follows, and the client recovers).
        const error = new CourierError(frame.code, frame.message);
        if (typeof frame.topic === "string") error.topic = frame.topic;
        this._emit("error", error);
      }
      return;
    }
    this._pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.action === "ack") {
      if (pending.onAck) pending.onAck(frame);
      pending.resolve(frame);
    } else {
      pending.reject(new CourierError(frame.code, frame.message));
    }
  }

  _failPending(error) {
    for (const pending of this._pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this._pending.clear();
  }

  // ---------------------------------------------------------------- REST

  /** POST /v1/audience: creates the token's audience (idempotent). */
  createAudience() {
    return this.request("POST", "/v1/audience");
  }

  /** GET /v1/topic: the audience's topics, oldest first. */
  topics() {
    return this.request("GET", "/v1/topic");
  }

  /** POST /v1/topic: creates a topic. */
  createTopic(topic) {
    return this.request("POST", "/v1/topic", { topic });
  }

  /** One REST call with the bearer token; a 401 refreshes a token function's token and retries once. */
  async request(method, path, body) {
    if (this._token === null) await this._refreshToken();
    try {
      return await this._request(method, path, body);
    } catch (e) {
      if (e.status !== 401 || typeof this._tokenSource !== "function") throw e;
      await this._refreshToken();
      return this._request(method, path, body);
    }
  }

  async _request(method, path, body) {
    if (this._token === null) await this._refreshToken();
    const init = { method, headers: { Authorization: `Bearer ${this._token}` } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await this._fetch(this.api + path, init);
    } catch (e) {
      throw new CourierError("ENETWORK", `${method} ${path}: ${e && e.message ? e.message : e}`);
    }
    let json = null;
    try {
      json = await response.json();
    } catch {
      // not JSON: reported below by status
    }
    if (!response.ok) {
      const error = json && json.error ? json.error : { code: "EHTTP", message: `${method} ${path}: HTTP ${response.status}` };
      throw new CourierError(error.code, error.message, response.status);
    }
    // courier.api.envelope=data wraps answers in {"data": ...} (the original Courier's shape).
    if (json && typeof json === "object" && !Array.isArray(json) && Object.keys(json).length === 1 && "data" in json) {
      return json.data;
    }
    return json;
  }
}

export default Courier;
