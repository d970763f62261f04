#pragma once
// The Socket.IO chat app (the founding document's example): mounts Socket.IO at /socket.io/.
//   join  "room" | {room}            → the socket joins the room
//   leave "room" | {room}            → it leaves
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
//   "count" room, ack → ack(number of sockets in the room, node-wide, via fetchSockets).
// Engine.IO options are read from the same SB_EIO_* variables as the echo app.

#include <cstdint>

#include "http/cors.h"
#include "http/router.h"
#include "net/loop_group.h"

namespace sb::app {

/// Mounts Socket.IO with the chat app on `router` (call before serving). Lives until exit.
void mount_socketio_chat(http::Router& router, net::LoopGroup& loops, const http::Cors& cors,
                         uint16_t node_id);

/// Thread-safe: closes every Socket.IO connection ("server shutting down"); no-op if not
/// mounted. Call before LoopGroup::shutdown.
void close_socketio_chat();

}  // namespace sb::app
