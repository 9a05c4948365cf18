// Types of courier.js, served beside it at /client/courier.d.ts.

/** Where a topic with history stands. */
export interface Position {
  offset: number;
  epoch: string;
}

export interface MessageMeta {
  topic: string;
  /** On topics with history only. */
  offset?: number;
  epoch?: string;
}

export type State = "disconnected" | "connecting" | "connected" | "reconnecting";

export interface CourierOptions {
  /** Base URL of the server's REST API, e.g. "https://courier.example.com". */
  api: string;
  /** The bearer JWT, or a function returning it; called again when the server says it expired. */
  token: string | (() => string | Promise<string>);
  /** A WebSocket implementation where there is no global one (Node 20: the "ws" package). */
  WebSocket?: unknown;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
  /** First reconnect window in ms (500); doubles per failed attempt up to maxDelayMs (30000). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How long publish, broadcast and subscribe wait for the server's answer (10000 ms). */
  ackTimeoutMs?: number;
}

/** The server's stable code (ETOPIC_NOTFOUND, ...) or the client's own (EDISCONNECTED, ETIMEOUT, ECLOSED, ENETWORK, ...). */
export declare class CourierError extends Error {
  readonly code: string;
  /** The HTTP status, for REST errors. */
  readonly status?: number;
  /** The topic, for a refused subscription and for EHISTORY_GAP (a cluster lost one of its messages; close 3010 and a recovery follow). */
  topic?: string;
}

export interface Ack {
  action: "ack";
  id: number;
  /** On a subscribe to a history topic, and on a subscribe with `since`. */
  topic?: string;
  /** On a subscribe to a history topic: where it stands. */
  position?: Position;
  /** On a subscribe with `since`: whether every message after it follows. */
  recovered?: boolean;
}

export interface Subscription {
  readonly topic: string;
  /** False once unsubscribed, or refused by the server. */
  readonly active: boolean;
  /** Resolves on the server's first ack; rejects with the server's error (ETOPIC_NOTFOUND, ...). */
  readonly ready: Promise<Subscription>;
  /** On topics with history, once acked: the last offset received (or where the topic stood) and the epoch. */
  readonly position: Position | null;
  unsubscribe(): void;
}

export interface EventMap {
  connected: { id: string; audience: string; reconnect: boolean };
  disconnected: { code: number; reason: string; wasClean: boolean };
  reconnecting: { attempt: number; delayMs: number };
  /** The server acknowledged a (re)subscription: after every connect, for every topic held. */
  subscribed: { topic: string; position: Position | null };
  error: CourierError;
  broadcast: unknown;
  /**
   * After every subscribe sent with `since` (a resubscribe on reconnect, or options.since): recovered
   * true means every message after `since` follows, in order, once; false means some are gone (a
   * restarted single node, a trimmed history, a topic without history): reload that topic's state.
   * position is null on a topic without history.
   */
  recovery: { topic: string; recovered: boolean; since: Position; position: Position | null };
  state: State;
}

export interface Topic {
  id: string;
  topic: string;
  audience: string;
  audienceId: string;
  created_at: string;
  updated_at: string;
}

export interface Audience {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export declare class Courier {
  constructor(options: CourierOptions);
  readonly api: string;
  readonly state: State;
  /** The audience of the current connection (from the server's greeting). */
  readonly audience: string | null;
  readonly connectionId: string | null;

  connect(): Promise<Courier>;
  disconnect(): void;
  on<K extends keyof EventMap>(event: K, listener: (value: EventMap[K]) => void): () => void;
  off<K extends keyof EventMap>(event: K, listener: (value: EventMap[K]) => void): void;

  subscribe<T = unknown>(
    topic: string,
    handler: (message: T, meta: MessageMeta) => void,
    /** since: resume after this position (a TypeError unless {offset: integer >= 0, epoch: string}). */
    options?: { since?: Position },
  ): Subscription;
  publish(topic: string, message: object): Promise<Ack>;
  broadcast(message: object): Promise<Ack>;

  createAudience(): Promise<Audience>;
  topics(): Promise<Topic[]>;
  createTopic(topic: string): Promise<Topic>;
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

export default Courier;
