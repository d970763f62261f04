#pragma once
// Socket.IO at /socket.io/ for the built-in apps, and the chat app (the founding document's
// example, `--app chat`):
//   join  "room" | {room} [, ack]    → the socket joins the room (ack: the room, once joined)
//   leave "room" | {room} [, ack]    → it leaves
//   members "room", ack              → ack([ids of the room's sockets on every node, sorted])
//   whoami ack                       → ack({id, node}) (node: --node-id, as a string)
//   chat  room, msg                  → io.to(room).emit("chat", msg)   (binary included)
//   chat  {room, text}               → io.to(room).emit("chat", {room, text, from})
//   echo  …args, ack                 → ack(…args) (binary included), or emit("echo", …) without ack
//
// With SB_SIO_TEST=1 (integration tests only), also:
//   namespace /admin: middleware refuses unless auth.token == "secret"
//     (connect_error {message: "not authorized", data: {reason: "bad token"}});
//   "bye" → socket.disconnect(); "bye-all" → socket.disconnect(true);
//   "ask" {event, timeout}, ack → the server emits `event` with an ack to this client and acks
//     back {error, reply} once it answered or timed out;
//   "ask-room" {room, timeout}, ack → io.to(room).timeout(t).emitWithAck("question") and acks
//     back {error, responses};
//   "count" room, ack → ack(number of sockets in the room, cluster-wide, via fetchSockets);
//   the cluster hooks (bcast, fetch, sockets-join/-leave, disconnect-sockets, remote,
//   sse, all-rooms, server-count) and server-side events ("ping-sse" answered with
//   {node, got}; "shout"/"ping-sse" shown to local clients as "sse") — the same contract as the
//   Node.js peer of the mixed-cluster tests, listed in tests/integration/peers/node-sio.mjs.
// Engine.IO options come from AppOptions (flags, the SB_EIO_* variables, defaults).

#include <functional>
#include <string_view>

#include "app_options.h"
#include "http/cors.h"
#include "http/router.h"
#include "net/loop_group.h"

namespace sb::app {

/// Installs an app's namespaces and handlers on a fresh server (before serving).
using SocketioSetup = std::function<void(socketio::Server& io)>;

/// Mounts Socket.IO at /socket.io/ on `router` with `setup`'s handlers (call before serving).
/// `adapter` makes each namespace's adapter (empty: in-memory, one node). Lives until exit;
/// returns the Socket.IO server.
socketio::Server& mount_socketio(http::Router& router, net::LoopGroup& loops,
                                 const http::Cors& cors, const AppOptions& options,
                                 std::string_view app_name, const SocketioSetup& setup,
                                 socketio::AdapterFactory adapter = {});

/// The chat app's handlers (plus the SB_SIO_TEST=1 extras).
void setup_chat(socketio::Server& io);

/// Thread-safe: closes every Socket.IO connection ("server shutting down"); no-op if not
/// mounted. Call before LoopGroup::shutdown.
void close_socketio();

/// Frees the Socket.IO server, its namespaces and their adapters (and with them the node's Redis
/// connections). Call after LoopGroup::shutdown, while the LoopGroup still exists: the adapters'
/// timers and connections belong to its loops.
void release_socketio();

}  // namespace sb::app
