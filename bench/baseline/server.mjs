// The Node.js baseline of `switchboard bench`: Socket.IO 4.8 (node_modules/socket.io) running
// exactly the handlers of `switchboard serve --app bench` (apps/switchboard/bench_app.cpp):
//   connect with query room=NAME → the socket joins NAME;
//   b(data[, room])  → io.to(room || "r").emit("m", data);
//   e(data, ack)     → ack(data).
//
// Usage: node bench/baseline/server.mjs [PORT] [--redis URL]   (or PORT=...; 0 or nothing = a free
// port). With --redis, the server joins a cluster through @socket.io/redis-adapter 8.3 (PUBLISH /
// PSUBSCRIBE on the npm `redis` v4 client), as `switchboard serve --adapter redis` does.
// Prints "listening on 127.0.0.1:PORT pid PID" once it accepts connections; SIGTERM/SIGINT stop it.

import { createServer } from 'node:http';
import { Server } from 'socket.io';

const args = process.argv.slice(2);
const redisAt = args.indexOf('--redis');
const redisUrl = redisAt >= 0 ? args[redisAt + 1] : null;
if (redisAt >= 0) args.splice(redisAt, 2);
const port = Number(args[0] ?? process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const httpServer = createServer();
// Defaults otherwise (websocket + polling, no per-message deflate, 1 MB max message): what a
// user of socket.io gets out of the box, and the same limits as our server's defaults.
const io = new Server(httpServer, { serveClient: false });
const redisClients = [];
if (redisUrl) {
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { createClient } = await import('redis');
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (e) => console.error(`redis: ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  redisClients.push(pub, sub);
  io.adapter(createAdapter(pub, sub));
}

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
  for (const c of redisClients) c.disconnect().catch(() => {});
  httpServer.close(() => process.exit(0));
  // Bounded: clients that do not go away within 2 s are dropped with the process.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
