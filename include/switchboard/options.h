#pragma once
/// \file
/// Options of an embedded Switchboard node: where it listens, how many loops it runs, and the
/// option sets of the layers it assembles (HTTP, Engine.IO, Socket.IO). Defaults are those of
/// `switchboard serve` and of the Node.js Socket.IO server.

#include <cstdint>
#include <string>
#include <vector>

#include "engineio/options.h"
#include "http/server.h"
#include "net/loop.h"
#include "socketio/server.h"

namespace switchboard {

/// Engine.IO options (Node's engine.io option set: pingInterval, pingTimeout, transports...).
using EngineOptions = sb::engineio::Options;
/// Socket.IO options (connectTimeout, decode limits, adapter, node id).
using SocketIoOptions = sb::socketio::ServerOptions;
/// HTTP server options (header/body limits and timeouts, CORS allow-list, web root).
using HttpOptions = sb::http::ServerOptions;
/// Per-loop connection limits (outbound buffer, watermarks, max connections).
using LoopOptions = sb::net::LoopOptions;

/// Everything `Server` needs; every member has a usable default.
struct Options {
  /// Listen address; "0.0.0.0" for every IPv4 interface, "::" for IPv6.
  std::string host = "0.0.0.0";
  /// Port used by `listen()` without argument and by `run()` when nothing listens yet.
  /// 0 picks a free port (`listen()` returns it).
  uint16_t port = 3000;
  /// Event loops (threads); 0 means one per hardware thread.
  int threads = 0;
  /// Engine.IO options; `path` defaults to "/socket.io/" as in Node's Socket.IO server.
  EngineOptions engine = [] {
    EngineOptions e;
    e.path = "/socket.io/";
    return e;
  }();
  /// Socket.IO options.
  SocketIoOptions socketio;
  /// HTTP options. `http.cors.allowed_origins` is the CORS allow-list (empty: same-origin
  /// only); a non-empty `http.web_root` serves that folder's files at "/".
  HttpOptions http;
  /// Connection limits of the loops.
  LoopOptions loop;
  /// Adds GET /healthz and GET /metrics (Prometheus text).
  bool builtin_routes = true;
  /// Grace period of `shutdown()`: connected clients are told to close and waited for this long.
  uint32_t shutdown_timeout_ms = 10000;
  /// Sets up the process logger with this level (trace|debug|info|warn|error|off); empty leaves
  /// spdlog's default logger as the application configured it.
  std::string log_level;
};

}  // namespace switchboard
