#pragma once
// `switchboard serve --app bench`: the target of `switchboard bench` and of comparisons with a
// Node.js Socket.IO server running the same handlers.
//   connect with query room=NAME → the socket joins NAME;
//   b  data[, room]   → io.to(room ?? "r").emit("m", data);
//   e  data, ack      → ack(data).

#include "socketio/server.h"

namespace sb::app {

/// Installs the bench handlers on `io` (before serving).
void setup_bench(socketio::Server& io);

}  // namespace sb::app
