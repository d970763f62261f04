// A Node.js socket.io 4.8 server with @socket.io/redis-adapter 8.3 (the reference peer), driven
// line by line by node_interop_test.cpp: commands on stdin, results on stdout as
// `<TAG> <json>`. One socket.io-client connects to it and joins "room1".
//
//   node node_peer.mjs <redis port> [sharded]   (sharded: createShardedAdapter, SPUBLISH)
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const port = Number(process.argv[2]);
const sharded = process.argv[3] === "sharded";
const out = (tag, v) => process.stdout.write(`${tag} ${JSON.stringify(v)}\n`);

const pub = createClient({ url: `redis://127.0.0.1:${port}` });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const adapter = sharded
  ? createShardedAdapter(pub, sub)
  : createAdapter(pub, sub, { requestsTimeout: 3000 });
const io = new Server(http, { adapter });
io.on("connection", (s) => {
  s.join("room1");
  s.data = { instance: "node" };
});
io.on("ping", (arg, cb) => {
  if (typeof cb === "function") cb({ from: "node", got: arg });
  else out("SSE_IN", arg);
});
await new Promise((r) => http.listen(0, "127.0.0.1", r));

const client = connect(`http://127.0.0.1:${http.address().port}`, { transports: ["websocket"] });
client.onAny((ev, ...args) => {
  const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
  out("CLIENT", [ev, ...args.map((a) => (Buffer.isBuffer(a) ? { bin: a.toString("hex") } : a))]);
  if (cb) cb({ answer: "node-client" });
});
await new Promise((r) => client.on("connect", r));
out("READY", client.id);

const commands = {
  fetch: async () => {
    const sockets = await io.in("room1").fetchSockets();
    out("FETCH", sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data ?? null })));
  },
  rooms: async () => out("ROOMS", [...(await io.of("/").adapter.allRooms())].sort()),
  count: async () => out("COUNT", await io.of("/").adapter.serverCount()),
  sse: async () => out("SSE", await io.serverSideEmitWithAck("ping", "from-node")),
  emit: async () => {
    io.to("croom").emit("fromnode", 1, Buffer.from([0xca, 0xfe]), { d: new Date(0) });
    out("EMITTED", true);
  },
  ack: async () => {
    try {
      out("ACK", await io.to("croom").timeout(3000).emitWithAck("ask", 7));
    } catch (e) {
      out("ACK_ERR", String(e));
    }
  },
  join: async () => {
    io.in("croom").socketsJoin("joined-by-node");
    out("JOINED", true);
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = commands[line.trim()];
  if (cmd) await cmd();
  else if (line.trim() === "quit") break;
}
client.close();
io.close();
await Promise.all([pub.quit(), sub.quit()]).catch(() => {});
process.exit(0);
