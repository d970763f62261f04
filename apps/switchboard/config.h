#pragma once
// `switchboard serve` configuration: defaults here, then the TOML file, then command-line flags
// (a flag given on the command line always wins over the file).

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace sb::app {

struct ServeConfig {
  std::string host = "0.0.0.0";
  uint16_t port = 3000;
  int threads = 0;  // 0 = number of cores
  std::string config_file;
  std::string log_level = "info";
  std::string web_root;  // empty = <binary dir>/../../web or ./web, whichever exists
  uint32_t max_connections = 100000;
  uint64_t max_outbound_bytes = 1 << 20;
  uint64_t max_message_size = 1 << 20;
  uint32_t max_fragments = 1024;
  uint64_t max_header_bytes = 16 << 10;
  uint32_t max_headers = 100;
  uint64_t max_body_bytes = 1 << 20;
  uint32_t header_timeout_ms = 10000;
  uint32_t body_timeout_ms = 30000;
  uint32_t idle_timeout_ms = 60000;
  uint32_t shutdown_timeout_ms = 5000;
  std::vector<std::string> cors_origins;
  std::vector<std::string> trusted_proxies;  // balancers whose X-Forwarded-For is believed
  bool no_deflate = false;
  // --- the built-in app and its protocol options (docs/apps.md) ---
  std::string app = "chat";  // chat | conformance | bench
  uint16_t node_id = 0;      // written into Engine.IO sids and Socket.IO ids
  // 0 = the app's default (Node's, or the conformance app's short ones).
  uint32_t ping_interval_ms = 0;
  uint32_t ping_timeout_ms = 0;
  uint32_t max_http_buffer_size = 0;
  uint32_t connect_timeout_ms = 0;
  /// After SIGTERM/SIGINT: keep serving this long with /readyz answering 503 "draining", so a
  /// balancer stops sending new clients before connections are closed.
  uint32_t drain_delay_ms = 0;
  /// Bearer key of POST /api/v1/emit; empty = the endpoint is off.
  std::string api_key;
  // --- the cluster (docs/cluster.md) ---
  /// memory (one node) | redis (@socket.io/redis-adapter's createAdapter) | redis-sharded
  /// (createShardedAdapter: SPUBLISH/SSUBSCRIBE, Redis >= 7).
  std::string adapter = "memory";
  /// redis://[user:password@]host[:port][/db]
  std::string redis_url = "redis://127.0.0.1:6379";
  /// Channel prefix shared by every node and emitter of one cluster.
  std::string redis_key = "socket.io";
  /// fetchSockets / allRooms / serverSideEmit with ack: how long to wait for other nodes.
  uint32_t redis_requests_timeout_ms = 5000;
  /// Commands buffered while Redis is unreachable; beyond that they are dropped (counted).
  uint32_t redis_max_queue = 10000;
  /// redis-sharded only: static | dynamic | dynamic-private (Node's subscriptionMode).
  std::string redis_subscription_mode = "dynamic";
  /// Publish every broadcast, as Node does, even while this node believes it is alone. For
  /// clusters with Node.js nodes, which do not announce themselves (docs/adapters.md).
  bool redis_always_publish = false;
};

/// Declares the serve flags on `cmd`, bound to `cfg`.
void add_serve_flags(CLI::App& cmd, ServeConfig& cfg);
/// After parsing: loads cfg.config_file (if any) and applies every key whose flag was not given.
/// Throws std::runtime_error with a readable message on a bad file (start-up only).
void apply_config_file(CLI::App& cmd, ServeConfig& cfg);
/// `url` with its user:password part replaced by `***` (for logs and error messages).
std::string redacted_url(const std::string& url);
/// Fills derived defaults (threads, web root) and checks ranges; throws on nonsense.
void finalize(ServeConfig& cfg, const std::string& argv0);

}  // namespace sb::app
