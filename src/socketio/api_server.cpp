// switchboard::Server (include/switchboard/server.h): assembles a node the way
// apps/switchboard/serve.cpp does — loops, HTTP server, Engine.IO at the Socket.IO path, the
// Socket.IO server as its handler — behind the Node-shaped embedding API.
//
// It lives in the socketio layer because it is the top of the stack an application links; it
// uses only the layers below (net, http, engineio) and adds no behaviour of its own.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/log.h"
#include "engineio/server.h"
#include "http/server.h"
#include "http/static_files.h"
#include "net/loop_group.h"
#include "socketio/runtime.h"
#include "switchboard/server.h"
#include "switchboard/version.h"

namespace switchboard {
namespace {

int thread_count(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

struct Server::Impl {
  explicit Impl(Options o) : options(std::move(o)), http(options.http) {}

  Options options;
  sb::http::HttpServer http;
  // Declared (and so built) in dependency order; ~Server tears them down explicitly.
  std::unique_ptr<sb::net::LoopGroup> loops;
  std::unique_ptr<sb::socketio::NetLoops> net_loops;
  std::unique_ptr<sb::socketio::Server> io;
  std::unique_ptr<sb::engineio::Server> eio;

  uint16_t port = 0;
  bool listening = false;
  bool started = false;
  bool shut_down = false;

  // run()/stop() hand-off: stop() signals the thread blocked in sigwait.
  std::mutex run_mu;
  bool running = false;
  bool stop_requested = false;
  pthread_t run_thread{};
};

Server::Server(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& m = *impl_;
  Options& o = m.options;
  if (!o.log_level.empty() && !sb::log::init(o.log_level))
    throw std::invalid_argument("switchboard: unknown log level '" + o.log_level + "'");
  o.threads = thread_count(o.threads);
  if (o.socketio.node_id == 0) o.socketio.node_id = o.engine.node_id;
  if (o.engine.per_message_deflate) o.socketio.deflate = o.engine.deflate;

  m.loops = std::make_unique<sb::net::LoopGroup>(o.threads, o.loop);
  m.net_loops = std::make_unique<sb::socketio::NetLoops>(*m.loops);
  m.io = std::make_unique<sb::socketio::Server>(*m.net_loops, o.socketio);
  m.eio = std::make_unique<sb::engineio::Server>(o.engine, *m.io);

  sb::http::Router& router = m.http.router();
  m.eio->attach(router, *m.loops, m.http.cors());
  if (o.builtin_routes) sb::http::add_builtin_routes(router);
  if (!o.http.web_root.empty())
    sb::http::add_static_route(router, sb::http::StaticOptions{o.http.web_root});
}

Server::~Server() {
  shutdown();
  // Top of the stack first: Engine.IO sessions (whose timers live in the loops' wheels), then
  // the Socket.IO server, then the loops (their remaining connections are closed by now).
  impl_->eio.reset();
  impl_->io.reset();
  impl_->net_loops.reset();
  impl_->loops.reset();
}

const Options& Server::options() const {
  return impl_->options;
}

sb::http::Router& Server::router() {
  return impl_->http.router();
}

sb::socketio::Server& Server::sio() {
  return *impl_->io;
}

uint16_t Server::port() const {
  return impl_->port;
}

uint16_t Server::listen(uint16_t port) {
  Impl& m = *impl_;
  if (m.listening) throw std::logic_error("switchboard: listen() called twice");
  auto bound = m.loops->listen(m.options.host, port, m.http.handler_factory());
  if (!bound) {
    throw std::runtime_error("switchboard: cannot listen on " + m.options.host + ":" +
                             std::to_string(port) + ": " + std::string(bound.error().reason));
  }
  m.port = *bound;
  m.listening = true;
  SB_LOG_INFO("switchboard {} listening on {}:{} ({} loops, socket.io at {})", kVersionString,
              m.options.host, m.port, m.options.threads, m.options.engine.path);
  return m.port;
}

void Server::start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  m.loops->start();
}

int Server::run() {
  Impl& m = *impl_;
  // Blocked before the loops start so that they inherit the mask and only sigwait sees them.
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (!m.listening) listen(m.options.port);
  start();
  {
    std::lock_guard lock(m.run_mu);
    m.running = true;
    m.run_thread = pthread_self();
  }
  bool stop_now = false;
  {
    std::lock_guard lock(m.run_mu);
    stop_now = m.stop_requested;
  }
  if (!stop_now) {
    int sig = 0;
    sigwait(&set, &sig);
    SB_LOG_INFO("switchboard: signal {}, shutting down (grace {} ms)", sig,
                m.options.shutdown_timeout_ms);
  }
  {
    std::lock_guard lock(m.run_mu);
    m.running = false;
  }
  shutdown();
  return 0;
}

void Server::stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.run_mu);
  m.stop_requested = true;
  // SIGTERM is blocked in the run() thread: it stays pending until sigwait takes it, so this
  // wakes run() exactly as an external SIGTERM would; it terminates nothing.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  if (m.running) pthread_kill(m.run_thread, SIGTERM);
}

void Server::shutdown() {
  Impl& m = *impl_;
  if (m.shut_down) return;
  m.shut_down = true;
  if (!m.started) return;
  m.eio->close_all();
  m.loops->shutdown(m.options.shutdown_timeout_ms);
  SB_LOG_INFO("switchboard: stopped");
}

}  // namespace switchboard
