#pragma once
// The Engine.IO echo app: mounts /engine.io/ with a handler that sends every message back
// (text and binary). Used by the integration tests with the official engine.io-client.
//
// Options come from AppOptions (flags, then the environment, then defaults). Environment
// overrides (tests only; documented in docs/engineio.md):
//   SB_EIO_PING_INTERVAL, SB_EIO_PING_TIMEOUT, SB_EIO_UPGRADE_TIMEOUT (ms),
//   SB_EIO_MAX_HTTP_BUFFER_SIZE (bytes), SB_EIO_TRANSPORTS ("polling", "websocket" or both,
//   comma-separated), SB_EIO_COOKIE (1: set the io cookie on handshakes).
// Text commands understood besides echo: "__close" (the server closes the session),
// "__broadcast <text>" (sent once, serialized once, to every session on every loop),
// "__burst <n>" (n messages "burst <i>" in one turn).

#include <cstdint>

#include "app_options.h"
#include "http/cors.h"
#include "http/router.h"
#include "net/loop_group.h"

namespace sb::app {

/// Mounts the echo app on `router` (call before serving). The server lives until process exit.
void mount_engineio_echo(http::Router& router, net::LoopGroup& loops, const http::Cors& cors,
                         const AppOptions& options);

/// Thread-safe: closes every echo session ("server shutting down"); no-op if not mounted.
void close_engineio_echo();

}  // namespace sb::app
