#include "config.h"

#include <unistd.h>

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include "redis/url.h"

namespace sb::app {
namespace {

// One row per setting: its flag, its TOML key, and how to take it from the file. Keeping the
// three together is what guarantees every flag can also be set in the file.
struct Setting {
  const char* flag;
  const char* key;
  std::function<void(const toml::node&, ServeConfig&)> from_toml;
};

template <typename T>
std::function<void(const toml::node&, ServeConfig&)> number(T ServeConfig::*field) {
  return [field](const toml::node& n, ServeConfig& c) {
    auto v = n.value<int64_t>();
    if (!v || *v < 0) throw std::runtime_error("expected a non-negative integer");
    c.*field = static_cast<T>(*v);
  };
}

std::function<void(const toml::node&, ServeConfig&)> text(std::string ServeConfig::*field) {
  return [field](const toml::node& n, ServeConfig& c) {
    auto v = n.value<std::string>();
    if (!v) throw std::runtime_error("expected a string");
    c.*field = *v;
  };
}

std::function<void(const toml::node&, ServeConfig&)> boolean(bool ServeConfig::*field) {
  return [field](const toml::node& n, ServeConfig& c) {
    auto v = n.value<bool>();
    if (!v) throw std::runtime_error("expected true or false");
    c.*field = *v;
  };
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"--host", "host", text(&ServeConfig::host)},
      {"--port", "port", number(&ServeConfig::port)},
      {"--threads", "threads", number(&ServeConfig::threads)},
      {"--log-level", "log_level", text(&ServeConfig::log_level)},
      {"--web-root", "web_root", text(&ServeConfig::web_root)},
      {"--max-connections", "max_connections", number(&ServeConfig::max_connections)},
      {"--max-outbound-bytes", "max_outbound_bytes", number(&ServeConfig::max_outbound_bytes)},
      {"--max-message-size", "max_message_size", number(&ServeConfig::max_message_size)},
      {"--max-fragments", "max_fragments", number(&ServeConfig::max_fragments)},
      {"--max-header-bytes", "max_header_bytes", number(&ServeConfig::max_header_bytes)},
      {"--max-headers", "max_headers", number(&ServeConfig::max_headers)},
      {"--max-body-bytes", "max_body_bytes", number(&ServeConfig::max_body_bytes)},
      {"--header-timeout-ms", "header_timeout_ms", number(&ServeConfig::header_timeout_ms)},
      {"--body-timeout-ms", "body_timeout_ms", number(&ServeConfig::body_timeout_ms)},
      {"--idle-timeout-ms", "idle_timeout_ms", number(&ServeConfig::idle_timeout_ms)},
      {"--shutdown-timeout-ms", "shutdown_timeout_ms", number(&ServeConfig::shutdown_timeout_ms)},
      {"--app", "app", text(&ServeConfig::app)},
      {"--node-id", "node_id", number(&ServeConfig::node_id)},
      {"--ping-interval-ms", "ping_interval_ms", number(&ServeConfig::ping_interval_ms)},
      {"--ping-timeout-ms", "ping_timeout_ms", number(&ServeConfig::ping_timeout_ms)},
      {"--max-http-buffer-size", "max_http_buffer_size",
       number(&ServeConfig::max_http_buffer_size)},
      {"--connect-timeout-ms", "connect_timeout_ms", number(&ServeConfig::connect_timeout_ms)},
      {"--drain-delay-ms", "drain_delay_ms", number(&ServeConfig::drain_delay_ms)},
      {"--api-key", "api_key", text(&ServeConfig::api_key)},
      {"--adapter", "adapter", text(&ServeConfig::adapter)},
      {"--redis", "redis_url", text(&ServeConfig::redis_url)},
      {"--redis-key", "redis_key", text(&ServeConfig::redis_key)},
      {"--redis-requests-timeout-ms", "redis_requests_timeout_ms",
       number(&ServeConfig::redis_requests_timeout_ms)},
      {"--redis-max-queue", "redis_max_queue", number(&ServeConfig::redis_max_queue)},
      {"--redis-subscription-mode", "redis_subscription_mode",
       text(&ServeConfig::redis_subscription_mode)},
      {"--cors-origin", "cors_origins",
       [](const toml::node& n, ServeConfig& c) {
         const toml::array* arr = n.as_array();
         if (arr == nullptr) throw std::runtime_error("expected an array of strings");
         c.cors_origins.clear();
         for (const auto& e : *arr) {
           auto s = e.value<std::string>();
           if (!s) throw std::runtime_error("expected an array of strings");
           c.cors_origins.push_back(*s);
         }
       }},
      {"--trusted-proxy", "trusted_proxies",
       [](const toml::node& n, ServeConfig& c) {
         const toml::array* arr = n.as_array();
         if (arr == nullptr) throw std::runtime_error("expected an array of strings");
         c.trusted_proxies.clear();
         for (const auto& e : *arr) {
           auto s = e.value<std::string>();
           if (!s) throw std::runtime_error("expected an array of strings");
           c.trusted_proxies.push_back(*s);
         }
       }},
      {"--no-deflate", "no_deflate", boolean(&ServeConfig::no_deflate)},
      {"--redis-always-publish", "redis_always_publish",
       boolean(&ServeConfig::redis_always_publish)},
  };
  return all;
}

}  // namespace

void add_serve_flags(CLI::App& cmd, ServeConfig& cfg) {
  cmd.add_option("--host", cfg.host, "Address to listen on")->capture_default_str();
  cmd.add_option("--port", cfg.port, "TCP port (0 = any free port)")->capture_default_str();
  cmd.add_option("--threads", cfg.threads, "Event loops (0 = one per core)")->capture_default_str();
  cmd.add_option("--config", cfg.config_file, "TOML file; flags override its values");
  cmd.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  cmd.add_option("--web-root", cfg.web_root, "Directory of static files");
  cmd.add_option("--max-connections", cfg.max_connections, "Open connections per node")
      ->capture_default_str();
  cmd.add_option("--max-outbound-bytes", cfg.max_outbound_bytes,
                 "Outbound queue limit per connection; a slower reader is disconnected")
      ->capture_default_str();
  cmd.add_option("--max-message-size", cfg.max_message_size, "Largest WebSocket message")
      ->capture_default_str();
  cmd.add_option("--max-fragments", cfg.max_fragments, "Most frames per WebSocket message")
      ->capture_default_str();
  cmd.add_option("--max-header-bytes", cfg.max_header_bytes, "Largest HTTP request head")
      ->capture_default_str();
  cmd.add_option("--max-headers", cfg.max_headers, "Most HTTP request headers")
      ->capture_default_str();
  cmd.add_option("--max-body-bytes", cfg.max_body_bytes, "Largest HTTP request body")
      ->capture_default_str();
  cmd.add_option("--header-timeout-ms", cfg.header_timeout_ms, "Time to receive a request head")
      ->capture_default_str();
  cmd.add_option("--body-timeout-ms", cfg.body_timeout_ms, "Time to receive a request body")
      ->capture_default_str();
  cmd.add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "Idle keep-alive HTTP connections")
      ->capture_default_str();
  cmd.add_option("--shutdown-timeout-ms", cfg.shutdown_timeout_ms,
                 "Grace period for connections on SIGTERM/SIGINT")
      ->capture_default_str();
  cmd.add_option("--cors-origin", cfg.cors_origins,
                 "Allowed cross-origin Origin (repeatable); none = same-origin only");
  cmd.add_option("--trusted-proxy", cfg.trusted_proxies,
                 "Peer IP of a balancer in front of this node (repeatable): handshakes from it "
                 "record the client address it appended to X-Forwarded-For");
  cmd.add_flag("--no-deflate", cfg.no_deflate, "Disable WebSocket permessage-deflate");
  cmd.add_option("--app", cfg.app, "Built-in app: chat|conformance|bench")->capture_default_str();
  cmd.add_option("--node-id", cfg.node_id, "Node id written into session and socket ids")
      ->capture_default_str();
  cmd.add_option("--ping-interval-ms", cfg.ping_interval_ms,
                 "Engine.IO pingInterval (0 = the app's default)");
  cmd.add_option("--ping-timeout-ms", cfg.ping_timeout_ms,
                 "Engine.IO pingTimeout (0 = the app's default)");
  cmd.add_option("--max-http-buffer-size", cfg.max_http_buffer_size,
                 "Engine.IO maxHttpBufferSize / maxPayload in bytes (0 = the app's default)");
  cmd.add_option("--connect-timeout-ms", cfg.connect_timeout_ms,
                 "Socket.IO connectTimeout (0 = the app's default)");
  cmd.add_option("--drain-delay-ms", cfg.drain_delay_ms,
                 "After SIGTERM, keep serving this long with /readyz 503 before closing")
      ->capture_default_str();
  cmd.add_option("--api-key", cfg.api_key,
                 "Bearer key for POST /api/v1/emit (none = the endpoint is off)");
  cmd.add_option("--adapter", cfg.adapter,
                 "Cluster adapter: memory (one node) | redis | redis-sharded")
      ->capture_default_str();
  cmd.add_option("--redis", cfg.redis_url, "Redis URL: redis://[user:pass@]host[:port][/db]")
      ->capture_default_str();
  cmd.add_option("--redis-key", cfg.redis_key,
                 "Channel prefix; every node and emitter of a cluster uses the same")
      ->capture_default_str();
  cmd.add_option("--redis-requests-timeout-ms", cfg.redis_requests_timeout_ms,
                 "Wait for other nodes in fetchSockets/allRooms/serverSideEmit with ack")
      ->capture_default_str();
  cmd.add_option("--redis-max-queue", cfg.redis_max_queue,
                 "Redis commands buffered during an outage; more are dropped and counted")
      ->capture_default_str();
  cmd.add_option("--redis-subscription-mode", cfg.redis_subscription_mode,
                 "redis-sharded: static | dynamic | dynamic-private")
      ->capture_default_str();
  cmd.add_flag("--redis-always-publish", cfg.redis_always_publish,
               "Publish every broadcast even while alone (clusters with Node.js nodes)");
}

void apply_config_file(CLI::App& cmd, ServeConfig& cfg) {
  if (cfg.config_file.empty()) return;
  toml::table file;
  try {
    file = toml::parse_file(cfg.config_file);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + cfg.config_file + ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : file) {
    bool known = false;
    for (const Setting& s : settings())
      known = known || key.str() == s.key;
    if (!known) throw std::runtime_error("config: unknown key '" + std::string(key.str()) + "'");
  }
  for (const Setting& s : settings()) {
    const toml::node* n = file.get(s.key);
    if (n == nullptr || cmd.count(s.flag) > 0) continue;
    try {
      s.from_toml(*n, cfg);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("config key '" + std::string(s.key) + "': " + e.what());
    }
  }
}

std::string redacted_url(const std::string& url) {
  const size_t at = url.rfind('@');
  if (at == std::string::npos) return url;
  const size_t scheme = url.find("://");
  const size_t from = scheme == std::string::npos || scheme > at ? 0 : scheme + 3;
  return url.substr(0, from) + "***" + url.substr(at);
}

void finalize(ServeConfig& cfg, const std::string& argv0) {
  if (cfg.threads <= 0)
    cfg.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (cfg.threads > 60) throw std::runtime_error("--threads: at most 60");
  if (cfg.web_root.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path exe = fs::canonical("/proc/self/exe", ec);
    if (ec) exe = fs::path(argv0);
    // The build's web/ (the page plus the socket.io client bundle, see cmake/web.cmake) first.
    for (const fs::path& cand : {exe.parent_path() / "web", exe.parent_path() / "../../web",
                                 exe.parent_path() / "../share/switchboard/web", fs::path("web")}) {
      if (fs::is_directory(cand, ec)) {
        cfg.web_root = fs::weakly_canonical(cand, ec).string();
        break;
      }
    }
  }
  if (cfg.max_outbound_bytes < 4096)
    throw std::runtime_error("--max-outbound-bytes: at least 4096");
  if (cfg.max_message_size < 125 || cfg.max_message_size > (uint64_t{1} << 31)) {
    throw std::runtime_error("--max-message-size: between 125 and 2^31");
  }
  if (cfg.max_headers == 0 || cfg.max_headers > 128)
    throw std::runtime_error("--max-headers: 1..128");
  if (cfg.max_header_bytes < 256) throw std::runtime_error("--max-header-bytes: at least 256");
  if (cfg.app != "chat" && cfg.app != "conformance" && cfg.app != "bench")
    throw std::runtime_error("--app: chat, conformance or bench (got '" + cfg.app + "')");
  if (cfg.adapter != "memory" && cfg.adapter != "redis" && cfg.adapter != "redis-sharded") {
    throw std::runtime_error("--adapter: memory, redis or redis-sharded (got '" + cfg.adapter +
                             "')");
  }
  if (cfg.redis_subscription_mode != "static" && cfg.redis_subscription_mode != "dynamic" &&
      cfg.redis_subscription_mode != "dynamic-private") {
    throw std::runtime_error(
        "--redis-subscription-mode: static, dynamic or dynamic-private (got '" +
        cfg.redis_subscription_mode + "')");
  }
  if (cfg.adapter != "memory") {
    // Checked here so that a typo exits 2 with a message before anything starts.
    if (auto url = redis::parse_url(cfg.redis_url); !url) {
      throw std::runtime_error("--redis: bad URL '" + redacted_url(cfg.redis_url) +
                               "': " + std::string(url.error().reason));
    }
  }
  if (cfg.redis_key.empty()) throw std::runtime_error("--redis-key: must not be empty");
  if (cfg.redis_requests_timeout_ms == 0)
    throw std::runtime_error("--redis-requests-timeout-ms: at least 1");
}

}  // namespace sb::app
