#include "lb_cmd.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "lb/lb_server.h"

namespace sb::app {
namespace {

// "HOST:PORT" → host and port; "[v6]:port" accepted.
bool split_host_port(const std::string& s, std::string& host, uint16_t& port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    const int p = std::stoi(s.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

void add_lb_command(CLI::App& app) {
  auto opts = std::make_shared<lb::LbOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto mode = std::make_shared<std::string>("sid");
  CLI::App* sub = app.add_subcommand(
      "lb", "Sticky load balancer for Engine.IO/Socket.IO nodes (long-polling and WebSocket)");
  sub->add_option("--listen", *listen, "HOST:PORT to accept clients on (port 0: any free port)")
      ->capture_default_str();
  sub->add_option("--backend", opts->backends, "Backend node HOST:PORT (repeat for each node)")
      ->required();
  sub->add_option("--mode", *mode,
                  "ip-hash | cookie | sid | round-robin (round-robin is NOT sticky: a control)")
      ->capture_default_str();
  sub->add_option("--threads", opts->threads, "Event loops")->capture_default_str();
  sub->add_option("--log-level", opts->log_level, "trace|debug|info|warn|error")
      ->capture_default_str();
  sub->add_option("--cookie-name", opts->cookie_name, "Affinity cookie (cookie mode)")
      ->capture_default_str();
  sub->add_option("--cookie-attributes", opts->cookie_attributes,
                  "Set-Cookie attributes (cross-origin pages: 'Path=/; SameSite=None; Secure')")
      ->capture_default_str();
  sub->add_flag("--trust-forwarded", opts->trust_forwarded,
                "Client address from X-Forwarded-For (only behind another proxy)");
  sub->add_option("--health-path", opts->health_path, "Health check path")->capture_default_str();
  sub->add_option("--health-interval-ms", opts->health_interval_ms, "Health check period")
      ->capture_default_str();
  sub->add_option("--health-timeout-ms", opts->health_timeout_ms, "Health check timeout")
      ->capture_default_str();
  sub->add_option("--fall", opts->fall, "Failed checks before a backend is taken out")
      ->capture_default_str();
  sub->add_option("--rise", opts->rise, "Passed checks before a backend is taken back")
      ->capture_default_str();
  sub->add_option("--probe-path", opts->probe_path,
                  "Engine.IO path asked once for a handshake to learn a node id ('' = never)")
      ->capture_default_str();
  sub->add_option("--max-body-bytes", opts->max_body_bytes, "Request body limit (413 above)")
      ->capture_default_str();
  sub->add_option("--header-timeout-ms", opts->header_timeout_ms, "Request head timeout (408)")
      ->capture_default_str();
  sub->add_option("--idle-timeout-ms", opts->idle_timeout_ms, "Idle keep-alive client connection")
      ->capture_default_str();
  sub->add_option("--response-timeout-ms", opts->response_timeout_ms,
                  "Backend response head timeout (504); must exceed the long-polling wait")
      ->capture_default_str();
  sub->add_option("--shutdown-timeout-ms", opts->shutdown_timeout_ms, "Grace period on SIGTERM")
      ->capture_default_str();
  sub->add_option("--max-connections", opts->max_connections, "Client + backend connections")
      ->capture_default_str();
  sub->callback([opts, listen, mode] {
    if (!split_host_port(*listen, opts->listen_host, opts->listen_port)) {
      throw CLI::ValidationError("--listen", "expects HOST:PORT");
    }
    const auto m = lb::parse_mode(*mode);
    if (!m) throw CLI::ValidationError("--mode", "expects ip-hash, cookie, sid or round-robin");
    opts->mode = *m;
    if (opts->threads < 1 || opts->threads > 64) {
      throw CLI::ValidationError("--threads", "expects 1..64");
    }
    const int code = lb::run_lb(*opts);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace sb::app
