// The Socket.IO comparison server of `scripts/bench compare`: one Node process, WebSocket transport
// only, a topic is a room. What a web team would write with Socket.IO 4.8 for Courier's job:
//   "subscribe" (topic, ack)          joins the room, then acks
//   "publish"   (topic, message, ack) emits "m" (message) to the room, then acks: like Courier's ack,
//                                     it means "handed to the fan-out", not "delivered"
// Prints "socketio listening on 127.0.0.1:PORT" once it listens (PORT from argv[2], 0 = any free port).
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer((req, res) => {
  res.writeHead(404).end();
});
const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  // Courier and nats-server run without compression in the comparison too.
  perMessageDeflate: false,
  // 100 B messages; the default 1 MB bound is never near.
  maxHttpBufferSize: 1e6,
});

io.on("connection", (socket) => {
  socket.on("subscribe", (topic, ack) => {
    if (typeof topic === "string") {
      socket.join(topic);
    }
    if (typeof ack === "function") {
      ack();
    }
  });
  socket.on("publish", (topic, message, ack) => {
    if (typeof topic === "string") {
      io.to(topic).emit("m", message);
    }
    if (typeof ack === "function") {
      ack();
    }
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  const a = httpServer.address();
  console.log(`socketio listening on ${a.address}:${a.port} (socket.io ${require("socket.io/package.json").version}, node ${process.version})`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
