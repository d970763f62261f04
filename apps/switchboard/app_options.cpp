#include "app_options.h"

#include <cstdlib>
#include <string_view>
#include <utility>

namespace sb::app {

uint32_t env_u32(const char* name, uint32_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
}

AppOptions resolve_app_options(const ServeConfig& cfg) {
  AppOptions o;
  if (cfg.app == "conformance") {
    o.ping_interval_ms = 300;
    o.ping_timeout_ms = 200;
    o.max_http_buffer_size = 1000000;
    o.connect_timeout_ms = 1000;
  }
  o.node_id = cfg.node_id;
  o.trusted_proxies = cfg.trusted_proxies;
  o.ping_interval_ms = env_u32("SB_EIO_PING_INTERVAL", o.ping_interval_ms);
  o.ping_timeout_ms = env_u32("SB_EIO_PING_TIMEOUT", o.ping_timeout_ms);
  o.max_http_buffer_size = env_u32("SB_EIO_MAX_HTTP_BUFFER_SIZE", o.max_http_buffer_size);
  o.connect_timeout_ms = env_u32("SB_SIO_CONNECT_TIMEOUT", o.connect_timeout_ms);
  // A flag (or TOML key) left at 0 means "not given".
  auto given = [](uint32_t flag, uint32_t current) { return flag != 0 ? flag : current; };
  o.ping_interval_ms = given(cfg.ping_interval_ms, o.ping_interval_ms);
  o.ping_timeout_ms = given(cfg.ping_timeout_ms, o.ping_timeout_ms);
  o.max_http_buffer_size = given(cfg.max_http_buffer_size, o.max_http_buffer_size);
  o.connect_timeout_ms = given(cfg.connect_timeout_ms, o.connect_timeout_ms);
  return o;
}

engineio::Options engineio_options(const AppOptions& o, std::string path) {
  engineio::Options e;
  e.path = std::move(path);
  e.node_id = o.node_id;
  e.trusted_proxies = o.trusted_proxies;
  e.ping_interval_ms = o.ping_interval_ms;
  e.ping_timeout_ms = o.ping_timeout_ms;
  e.max_http_buffer_size = o.max_http_buffer_size;
  e.upgrade_timeout_ms = env_u32("SB_EIO_UPGRADE_TIMEOUT", e.upgrade_timeout_ms);
  if (const char* t = std::getenv("SB_EIO_TRANSPORTS"); t != nullptr && *t != '\0') {
    const std::string_view ts(t);
    e.polling = ts.find("polling") != std::string_view::npos;
    e.websocket = ts.find("websocket") != std::string_view::npos;
  }
  return e;
}

socketio::ServerOptions socketio_options(const AppOptions& o, const engineio::Options& eio) {
  socketio::ServerOptions s;
  s.node_id = o.node_id;
  s.connect_timeout_ms = o.connect_timeout_ms;
  if (eio.per_message_deflate) s.deflate = eio.deflate;
  return s;
}

}  // namespace sb::app
