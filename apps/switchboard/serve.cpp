#include "serve.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>

#include "common/log.h"
#include "engineio_app.h"
#include "http/server.h"
#include "http/static_files.h"
#include "net/loop_group.h"
#include "raw_endpoints.h"
#include "socketio_app.h"
#include "ws/upgrade.h"

namespace sb::app {
namespace {

net::LoopOptions loop_options(const ServeConfig& cfg) {
  net::LoopOptions o;
  o.max_connections = cfg.max_connections;
  o.max_outbound_bytes = cfg.max_outbound_bytes;
  // Producers are told to pause at half the limit and resume at an eighth of it.
  o.high_watermark = cfg.max_outbound_bytes / 2;
  o.low_watermark = cfg.max_outbound_bytes / 8;
  // A partial WebSocket message or request body may sit unconsumed; allow it plus headroom.
  o.max_spill_bytes = std::max<size_t>(cfg.max_message_size, cfg.max_body_bytes) + (1 << 20);
  return o;
}

http::ServerOptions http_options(const ServeConfig& cfg) {
  http::ServerOptions o;
  o.max_header_bytes = cfg.max_header_bytes;
  o.max_headers = cfg.max_headers;
  o.max_body_bytes = cfg.max_body_bytes;
  o.header_timeout_ms = cfg.header_timeout_ms;
  o.body_timeout_ms = cfg.body_timeout_ms;
  o.keepalive_timeout_ms = cfg.idle_timeout_ms;
  o.cors.allowed_origins = cfg.cors_origins;
  o.web_root = cfg.web_root;
  return o;
}

ws::SessionOptions ws_options(const ServeConfig& cfg) {
  ws::SessionOptions o;
  o.limits.max_message_size = cfg.max_message_size;
  o.limits.max_fragments = cfg.max_fragments;
  o.deflate.enabled = !cfg.no_deflate;
  return o;
}

// Blocks SIGINT/SIGTERM in every thread (the loops inherit the mask) so that only sigwait in the
// main thread sees them: shutdown is then ordinary code, not a signal handler.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

}  // namespace

int run_serve(const ServeConfig& cfg) {
  if (!log::init(cfg.log_level)) {
    std::fprintf(stderr, "switchboard: unknown log level '%s'\n", cfg.log_level.c_str());
    return 2;
  }
  sigset_t stop_signals = block_stop_signals();

  net::LoopGroup loops(cfg.threads, loop_options(cfg));
  http::HttpServer server(http_options(cfg));
  const ws::SessionOptions ws_opts = ws_options(cfg);

  EchoEndpoint echo;
  ChatEndpoint chat(loops, ws_opts.deflate);
  const http::Cors& cors = server.cors();
  // Browsers send Origin on every WebSocket handshake: with no allow-list, only same-origin
  // pages (Origin matching Host) are accepted, the same rule as for HTTP.
  auto allow_origin = [&cors](std::string_view origin) { return cors.origin_allowed(origin); };

  http::Router& router = server.router();
  http::add_builtin_routes(router);
  // Engine.IO echo at /engine.io/ (conformance with the official engine.io-client).
  mount_engineio_echo(router, loops, cors, /*node_id=*/0);
  // The founding document's chat over Socket.IO at /socket.io/ (join, chat to a room, echo).
  mount_socketio_chat(router, loops, cors, /*node_id=*/0);
  router.add("/raw/echo", {http::Method::kGet}, ws::upgrade_route(echo, ws_opts, allow_origin));
  router.add("/raw/chat", {http::Method::kGet}, ws::upgrade_route(chat, ws_opts, allow_origin));
  http::add_static_route(router, http::StaticOptions{cfg.web_root});

  auto port = loops.listen(cfg.host, cfg.port, server.handler_factory());
  if (!port) {
    SB_LOG_ERROR("cannot listen on {}:{}: {}", cfg.host, cfg.port, port.error().reason);
    return 1;
  }
  loops.start();
  SB_LOG_INFO("serving {} with {} loops, web root '{}'", cfg.host, cfg.threads, cfg.web_root);
  std::printf("listening on %s:%u\n", cfg.host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  SB_LOG_INFO("signal {}: shutting down (grace {} ms)", sig, cfg.shutdown_timeout_ms);
  close_engineio_echo();
  close_socketio_chat();
  loops.shutdown(cfg.shutdown_timeout_ms);
  SB_LOG_INFO("stopped");
  return 0;
}

}  // namespace sb::app
