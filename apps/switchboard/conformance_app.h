#pragma once
// `switchboard serve --app conformance`: the server the Socket.IO conformance suite expects.
//   namespaces "/" and "/custom" (any other: CONNECT_ERROR "Invalid namespace");
//   on connect, each emits `auth` with the client's CONNECT payload ({} when absent);
//   on "/": `message` …args → emit("message-back", …args) (binary included);
//           `message-with-ack` …args, ack → ack(…args).
// The bare Engine.IO echo at /engine.io/ is mounted beside it (serve.cpp). Its defaults are
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, connectTimeout 1000 ms
// (app_options.cpp).

#include "socketio/server.h"

namespace sb::app {

/// Installs the conformance namespaces and handlers on `io` (before serving).
void setup_conformance(socketio::Server& io);

}  // namespace sb::app
