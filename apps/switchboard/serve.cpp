#include "serve.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "adapter/redis_adapter.h"
#include "adapter/redis_bus.h"
#include "app_options.h"
#include "bench_app.h"
#include "common/log.h"
#include "conformance_app.h"
#include "emit_api.h"
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

// Waits up to `ms` for another stop signal (a second Ctrl-C cuts the drain short).
void drain_wait(const sigset_t& stop_signals, uint32_t ms) {
  if (ms == 0) return;
  const timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  sigtimedwait(&stop_signals, nullptr, &ts);
}

// The node's cluster adapter (--adapter): the factory every namespace's adapter comes from and,
// for the Redis adapters, the node's Redis connections (shared by the namespaces).
struct Cluster {
  socketio::AdapterFactory factory;  // empty: in-memory, one node
  std::shared_ptr<adapter::RedisBus> bus;
};

Cluster make_cluster(const ServeConfig& cfg, net::LoopGroup& loops) {
  if (cfg.adapter == "memory") {
    if (cfg.redis_url != ServeConfig{}.redis_url) {
      SB_LOG_WARN("--redis is ignored with --adapter memory (one node); use --adapter redis");
    }
    return {};
  }
  adapter::RedisAdapterOptions o;
  o.url = cfg.redis_url;
  o.key = cfg.redis_key;
  o.requests_timeout_ms = cfg.redis_requests_timeout_ms;
  o.max_queue = cfg.redis_max_queue;
  o.skip_publish_when_alone = !cfg.redis_always_publish;
  o.mode = cfg.adapter == "redis-sharded" ? adapter::RedisAdapterMode::kSharded
                                          : adapter::RedisAdapterMode::kClassic;
  o.subscription_mode = cfg.redis_subscription_mode == "static" ? adapter::SubscriptionMode::kStatic
                        : cfg.redis_subscription_mode == "dynamic-private"
                            ? adapter::SubscriptionMode::kDynamicPrivate
                            : adapter::SubscriptionMode::kDynamic;
  Cluster c;
  c.factory = adapter::make_redis_adapter_factory(loops, std::move(o), &c.bus);
  SB_LOG_INFO("cluster: adapter {} on {} (key '{}')", cfg.adapter, redacted_url(cfg.redis_url),
              cfg.redis_key);
  return c;
}

// /readyz: 200 "ready" while serving; 503 "draining" once a stop signal arrived (/healthz stays
// 200 until the process exits: a draining node is alive, just not taking new clients); 503
// "redis disconnected" while the Redis adapter cannot reach Redis — the node still serves its
// own clients, but a balancer should prefer nodes that reach the rest of the cluster.
void add_readyz(http::Router& router, const std::atomic<bool>& draining,
                std::shared_ptr<adapter::RedisBus> bus) {
  router.add("/readyz", http::kGetHead, [&draining, bus = std::move(bus)](http::Exchange& ex) {
    if (draining.load(std::memory_order_relaxed)) {
      ex.respond(http::text_response(503, "draining"));
    } else if (bus && !bus->ready()) {
      ex.respond(http::text_response(503, "redis disconnected"));
    } else {
      ex.respond(http::text_response(200, "ready"));
    }
  });
}

// Mounts the routes of the built-in app `cfg.app` (chat, conformance, bench).
void mount_app(const ServeConfig& cfg, http::Router& router, net::LoopGroup& loops,
               const http::Cors& cors, socketio::AdapterFactory adapter) {
  const AppOptions opts = resolve_app_options(cfg);
  // Engine.IO echo at /engine.io/ (conformance with the official engine.io-client).
  if (cfg.app != "bench") mount_engineio_echo(router, loops, cors, opts);
  // The founding document's chat (default), the conformance server, or the bench target.
  const SocketioSetup setup = cfg.app == "bench"         ? SocketioSetup(setup_bench)
                              : cfg.app == "conformance" ? SocketioSetup(setup_conformance)
                                                         : SocketioSetup(setup_chat);
  socketio::Server& io =
      mount_socketio(router, loops, cors, opts, cfg.app, setup, std::move(adapter));
  if (!cfg.api_key.empty()) add_emit_api(router, io, cfg.api_key);
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

  // Read by /readyz on the loops, written by this thread; lives until after loops.shutdown.
  std::atomic<bool> draining{false};
  http::Router& router = server.router();
  http::add_builtin_routes(router, static_cast<int>(cfg.node_id));
  Cluster cluster = make_cluster(cfg, loops);
  add_readyz(router, draining, cluster.bus);
  mount_app(cfg, router, loops, cors, std::move(cluster.factory));
  router.add("/raw/echo", {http::Method::kGet}, ws::upgrade_route(echo, ws_opts, allow_origin));
  router.add("/raw/chat", {http::Method::kGet}, ws::upgrade_route(chat, ws_opts, allow_origin));
  http::add_static_route(router, http::StaticOptions{cfg.web_root});

  auto port = loops.listen(cfg.host, cfg.port, server.handler_factory());
  if (!port) {
    SB_LOG_ERROR("cannot listen on {}:{}: {}", cfg.host, cfg.port, port.error().reason);
    return 1;
  }
  loops.start();
  SB_LOG_INFO("serving app '{}' on {} with {} loops, web root '{}'", cfg.app, cfg.host, cfg.threads,
              cfg.web_root);
  std::printf("listening on %s:%u\n", cfg.host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  draining.store(true, std::memory_order_relaxed);
  SB_LOG_INFO("signal {}: draining {} ms, then shutting down (grace {} ms)", sig,
              cfg.drain_delay_ms, cfg.shutdown_timeout_ms);
  drain_wait(stop_signals, cfg.drain_delay_ms);
  close_engineio_echo();
  close_socketio();
  loops.shutdown(cfg.shutdown_timeout_ms);
  release_socketio();
  SB_LOG_INFO("stopped");
  return 0;
}

}  // namespace sb::app
