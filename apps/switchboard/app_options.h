#pragma once
// The Engine.IO / Socket.IO options of the built-in apps, resolved once at start-up from three
// sources, strongest first: a serve flag (or TOML key), an SB_EIO_* / SB_SIO_* environment
// variable (kept for the integration tests), the app's default. The conformance app defaults to
// the short timings of the Socket.IO conformance suite; the others to Node's defaults.

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "engineio/options.h"
#include "socketio/server.h"

namespace sb::app {

struct AppOptions {
  uint16_t node_id = 0;
  uint32_t ping_interval_ms = 25000;
  uint32_t ping_timeout_ms = 20000;
  uint32_t max_http_buffer_size = 1000000;
  uint32_t connect_timeout_ms = 45000;
  std::vector<std::string> trusted_proxies;
};

/// The app's defaults, then the environment, then the flags given in `cfg`.
AppOptions resolve_app_options(const ServeConfig& cfg);

/// Engine.IO options at `path` with `o` applied (plus the test-only SB_EIO_* variables that have
/// no flag: upgrade timeout, transports, cookie).
engineio::Options engineio_options(const AppOptions& o, std::string path);

/// Socket.IO server options with `o` applied; `eio` supplies the broadcast compression.
socketio::ServerOptions socketio_options(const AppOptions& o, const engineio::Options& eio);

/// An unsigned integer environment variable, or `fallback` when unset or empty.
uint32_t env_u32(const char* name, uint32_t fallback);

}  // namespace sb::app
