#pragma once
// Configuration of `switchboard lb` and the state every loop of the balancer shares.

#include <cstdint>
#include <string>
#include <vector>

#include "http/request_parser.h"
#include "lb/backend_pool.h"

namespace sb::lb {

struct LbOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::vector<std::string> backends;  // HOST:PORT each
  Mode mode = Mode::kSid;
  int threads = 1;
  std::string log_level = "info";

  // Cookie mode. Cross-origin browser pages need "SameSite=None; Secure" and withCredentials.
  std::string cookie_name = "sblb";
  std::string cookie_attributes = "Path=/; HttpOnly; SameSite=Lax";
  /// Take the client address from X-Forwarded-For (leftmost entry) and pass the header on extended
  /// rather than replaced: only when another proxy in front of us sets it.
  bool trust_forwarded = false;

  // Health checks: GET health_path every interval; `fall` failures take a backend out, `rise`
  // successes bring it back.
  std::string health_path = "/healthz";
  uint32_t health_interval_ms = 1000;
  uint32_t health_timeout_ms = 1000;
  int fall = 2;
  int rise = 2;
  /// A backend whose node id is not announced by a header on its health answer is asked once for
  /// an Engine.IO handshake at this path and the id read from the sid ("" disables the probe).
  std::string probe_path = "/socket.io/";

  // Limits and timeouts, as in the HTTP layer.
  http::ParserLimits request_limits{};
  uint64_t max_body_bytes = 8 << 20;
  uint32_t header_timeout_ms = 10000;    // a client's request head must complete within this
  uint32_t idle_timeout_ms = 65000;      // a keep-alive client connection between requests
  uint32_t response_timeout_ms = 65000;  // connect + backend response head (long-polls wait)
  uint32_t shutdown_timeout_ms = 5000;
  size_t max_outbound_bytes = 4 << 20;  // per connection; above it the peer is too slow
  size_t high_watermark = 512 << 10;    // tunnel: stop reading the other side above this
  size_t low_watermark = 128 << 10;
  uint32_t max_connections = 19000;
};

struct LbShared {
  LbOptions options;
  BackendPool pool;
};

}  // namespace sb::lb
