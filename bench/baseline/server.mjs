// The Node.js baseline of `switchboard bench`: Socket.IO 4.8 (node_modules/socket.io) running
// exactly the handlers of `switchboard serve --app bench` (apps/switchboard/bench_app.cpp):
//   connect with query room=NAME → the socket joins NAME;
//   b(data[, room])  → io.to(room || "r").emit("m", data);
//   e(data, ack)     → ack(data).
//
// Usage: node bench/baseline/server.mjs [PORT]   (or PORT=...; 0 or nothing = a free port)
// Prints "listening on 127.0.0.1:PORT pid PID" once it accepts connections; SIGTERM/SIGINT stop it.

import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const httpServer = createServer();
// Defaults otherwise (websocket + polling, no per-message deflate, 1 MB max message): what a
// user of socket.io gets out of the box, and the same limits as our server's defaults.
const io = new Server(httpServer, { serveClient: false });

io.on('connection', (socket) => {
  const room = socket.handshake.query.room;
  if (typeof room === 'string' && room !== '') socket.join(room);
  socket.on('b', (data, target) => {
    io.to(typeof target === 'string' && target !== '' ? target : 'r').emit('m', data);
  });
  socket.on('e', (data, ack) => {
    if (typeof ack === 'function') ack(data);
  });
});

httpServer.listen(port, host, () => {
  const { port: actual } = httpServer.address();
  console.log(`listening on ${host}:${actual} pid ${process.pid}`);
});

function stop() {
  io.close();
  httpServer.close(() => process.exit(0));
  // Bounded: clients that do not go away within 2 s are dropped with the process.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
