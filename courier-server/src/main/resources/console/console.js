// The Courier console: courier.js and the DOM, nothing else. Every value from the server or the
// user is shown with textContent, never parsed as HTML.
import { Courier } from "/client/courier.js";

const $ = (id) => document.getElementById(id);
const MAX_LOG_ROWS = 500;

let courier = null;
let reconnects = 0;
const subscriptions = new Map(); // topic -> Subscription

function time() {
  return new Date().toISOString().slice(11, 23);
}

function log(kind, topic, text) {
  const row = document.createElement("tr");
  row.className = `kind-${kind}`;
  for (const value of [time(), kind, topic || "", text]) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  const body = $("log");
  body.append(row);
  while (body.rows.length > MAX_LOG_ROWS) body.deleteRow(0);
  body.scrollTop = body.scrollHeight;
}

function result(id, ok, text) {
  const el = $(id);
  el.className = `result ${ok ? "ok" : "bad"}`;
  el.textContent = text;
}

function describe(error) {
  return error && error.code ? `${error.code}: ${error.message}` : String(error);
}

function client() {
  if (courier) return courier;
  const pasted = $("token").value.trim();
  if (!pasted) throw new Error("paste a token first");
  // A function, so an expired token is asked for again: the console re-reads the field.
  courier = new Courier({ api: location.origin, token: () => $("token").value.trim() });
  courier.on("state", (state) => {
    $("state").textContent = state;
    $("state").className = `state state-${state}`;
    $("disconnect").disabled = state === "disconnected";
    $("connect").disabled = state !== "disconnected";
    log("state", "", state);
  });
  courier.on("connected", (c) => {
    $("audience").textContent = c.audience;
    $("connection").textContent = c.id;
  });
  courier.on("disconnected", (d) => log("state", "", `closed ${d.code}${d.reason ? ` (${d.reason})` : ""}`));
  courier.on("reconnecting", (r) => {
    reconnects++;
    $("reconnects").textContent = String(reconnects);
    log("state", "", `reconnect #${r.attempt} in ${r.delayMs} ms`);
  });
  courier.on("error", (e) => {
    log("error", e.topic || "", describe(e));
    if (e.topic && subscriptions.has(e.topic)) {
      subscriptions.delete(e.topic);
      renderSubscriptions();
    }
  });
  courier.on("broadcast", (message) => log("broadcast", "", JSON.stringify(message)));
  courier.on("recovery", (r) => log(r.recovered ? "state" : "error", r.topic, r.recovered ? "recovered" : "not recovered: messages were lost"));
  return courier;
}

async function connect() {
  let c;
  try {
    c = client();
  } catch (e) {
    result("auth-result", false, e.message);
    return;
  }
  result("auth-result", true, "connecting…");
  refreshTopics();
  try {
    await c.connect();
    result("auth-result", true, `connected to ${c.audience}`);
  } catch (e) {
    result("auth-result", false, describe(e));
  }
}

function disconnect() {
  if (!courier) return;
  courier.disconnect();
  // A new token may be pasted: the next Connect builds a new client, subscriptions are re-made.
  for (const sub of subscriptions.values()) sub.unsubscribe();
  subscriptions.clear();
  renderSubscriptions();
  courier = null;
}

async function createAudience() {
  try {
    const audience = await client().createAudience();
    result("auth-result", true, `audience ${audience.name} (${audience.id})`);
  } catch (e) {
    result("auth-result", false, describe(e));
  }
}

async function refreshTopics() {
  let topics;
  try {
    topics = await client().topics();
  } catch (e) {
    result("topics-result", false, describe(e));
    return;
  }
  result("topics-result", true, `${topics.length} topic${topics.length === 1 ? "" : "s"}`);
  const list = $("topics");
  list.replaceChildren();
  for (const t of topics) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = t.topic;
    const button = document.createElement("button");
    button.textContent = "subscribe";
    button.dataset.topic = t.topic;
    button.addEventListener("click", () => subscribe(t.topic));
    item.append(name, button);
    list.append(item);
  }
}

async function createTopic() {
  const topic = $("new-topic").value.trim();
  try {
    const created = await client().createTopic(topic);
    $("new-topic").value = "";
    await refreshTopics();
    result("topics-result", true, `created ${created.topic}`);
  } catch (e) {
    result("topics-result", false, describe(e));
  }
}

function subscribe(topic) {
  topic = (topic || "").trim();
  if (!topic || subscriptions.has(topic)) return;
  let c;
  try {
    c = client();
  } catch (e) {
    result("auth-result", false, e.message);
    return;
  }
  const sub = c.subscribe(topic, (message, meta) =>
    log("publish", meta.topic, JSON.stringify(message) + (meta.offset !== undefined ? `  #${meta.offset}` : "")));
  subscriptions.set(topic, sub);
  renderSubscriptions();
  sub.ready.then(() => log("state", topic, "subscribed"), () => {});
  if (!$("publish-topic").value) $("publish-topic").value = topic;
}

function renderSubscriptions() {
  const list = $("subscriptions");
  list.replaceChildren();
  for (const [topic, sub] of subscriptions) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = topic;
    const button = document.createElement("button");
    button.textContent = "unsubscribe";
    button.addEventListener("click", () => {
      sub.unsubscribe();
      subscriptions.delete(topic);
      renderSubscriptions();
      log("state", topic, "unsubscribed");
    });
    item.append(name, button);
    list.append(item);
  }
}

function message() {
  const text = $("publish-message").value;
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`message is not JSON: ${e.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("message must be a JSON object");
  return value;
}

async function send(kind) {
  try {
    const body = message();
    const c = client();
    const topic = $("publish-topic").value.trim();
    const ack = kind === "publish" ? await c.publish(topic, body) : await c.broadcast(body);
    result("publish-result", true, `${kind} acknowledged (id ${ack.id})`);
  } catch (e) {
    result("publish-result", false, describe(e));
  }
}

$("connect").addEventListener("click", connect);
$("disconnect").addEventListener("click", disconnect);
$("create-audience").addEventListener("click", createAudience);
$("refresh-topics").addEventListener("click", refreshTopics);
$("create-topic").addEventListener("click", createTopic);
$("subscribe").addEventListener("click", () => {
  subscribe($("subscribe-topic").value);
  $("subscribe-topic").value = "";
});
$("publish").addEventListener("click", () => send("publish"));
$("broadcast").addEventListener("click", () => send("broadcast"));
$("clear-log").addEventListener("click", () => $("log").replaceChildren());
document.body.dataset.ready = "true";
