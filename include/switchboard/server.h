#pragma once
/// \file
/// `switchboard::Server`: a whole Switchboard node in one object — the event loops, the HTTP
/// server, the Engine.IO server at `/socket.io/`, and the Socket.IO server on top — with the
/// shape of Node's `new Server(options)`:
///
/// \code
///   switchboard::Server io;
///   io.on_connection([&io](switchboard::Socket& socket) {
///     socket.on("join", [&socket](const switchboard::Args& a) { socket.join(a.str(0)); });
///   });
///   io.listen(3000);
///   return io.run();  // until SIGINT/SIGTERM, then a graceful shutdown
/// \endcode
///
/// Threads: configuration (of, use, on_connection) belongs before listen()/start(). Handlers run
/// on the loop thread that owns the socket; emitting (`io.to(room).emit(...)`) works from any
/// loop thread and from other threads.

#include <cstdint>
#include <memory>
#include <regex>
#include <string_view>
#include <utility>

#include "switchboard/options.h"
#include "switchboard/types.h"

namespace sb::http {
class Router;
}

namespace switchboard {

/// An embedded Switchboard node. Not copyable or movable (handlers hold references to it).
class Server {
 public:
  /// Builds the node (no thread starts and nothing listens yet). Throws std::invalid_argument
  /// on an unknown `log_level`.
  explicit Server(Options options = {});
  /// Shuts down gracefully if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const Options& options() const;

  // --- namespaces -------------------------------------------------------------------------
  /// The namespace `name` ("/" is the main one), created on first use.
  Namespace& of(std::string_view name) { return sio().of(name); }
  /// A dynamic namespace: every name `match(name, auth)` accepts becomes a child that shares
  /// this parent's middleware and connection handlers.
  Namespace& of(NamespaceMatcher match) { return sio().of(std::move(match)); }
  /// A dynamic namespace for every name matching `pattern` (e.g. `std::regex("^/room-\\d+$")`).
  Namespace& of(const std::regex& pattern) { return sio().of(pattern); }

  // --- the main namespace, as in Node ------------------------------------------------------
  /// Adds a middleware to the main namespace: `[](Socket& s, Next next) { next(); }`.
  void use(Middleware m) { sio().use(std::move(m)); }
  /// Runs `h` for every socket connected to the main namespace (on the socket's loop).
  void on_connection(ConnectionHandler h) { sio().on_connection(std::move(h)); }
  /// Broadcast to a room of the main namespace: `io.to("r").emit("chat", msg)`.
  BroadcastOperator to(std::string_view room) { return sio().to(room); }
  /// Same as to().
  BroadcastOperator in(std::string_view room) { return sio().in(room); }
  /// Broadcast to every socket of the main namespace but those in `room`.
  BroadcastOperator except(std::string_view room) { return sio().except(room); }
  /// Broadcast to this node only (no adapter fan-out to other nodes).
  BroadcastOperator local() { return sio().local(); }
  /// Broadcast that may be dropped for clients that are not ready to receive.
  // NOLINTNEXTLINE(readability-identifier-naming): `volatile` is a keyword
  BroadcastOperator volatile_() { return sio().volatile_(); }
  /// Broadcast with acks, collected within `ms` (then BroadcastOperator::emit_with_ack).
  BroadcastOperator timeout(uint32_t ms) { return sio().timeout(ms); }
  /// Emits to every socket of the main namespace.
  template <typename... A>
  void emit(std::string_view event, A&&... args) {
    sio().emit(event, std::forward<A>(args)...);
  }

  // --- serving -------------------------------------------------------------------------------
  /// Binds `host:port` (one SO_REUSEPORT listener per loop) and returns the bound port — the
  /// chosen one when `port` is 0. Throws std::runtime_error when the address cannot be bound.
  /// Call before start()/run(); at most once.
  uint16_t listen(uint16_t port);
  /// listen(options().port).
  uint16_t listen() { return listen(options().port); }
  /// The bound port, 0 before listen().
  uint16_t port() const;
  /// Starts the loop threads and returns. The caller's signal mask is inherited by the loops.
  void start();
  /// Blocks SIGINT and SIGTERM, listens (on options().port, if listen() was not called) and
  /// starts, then waits for one of those signals — or for stop() — and shuts down gracefully.
  /// Returns 0 (a process exit status). Call from the main thread, before any other thread of
  /// the application is created, so that the signals reach it.
  int run();
  /// Makes a run() in progress return (thread-safe; callable from a handler).
  void stop();
  /// Tells every client that the server is going away, waits up to
  /// options().shutdown_timeout_ms for the connections to close, and joins the loops.
  /// Idempotent.
  void shutdown();

  // --- escape hatches ------------------------------------------------------------------------
  /// The HTTP router, to add routes of the application beside `/socket.io/` (before listen()).
  sb::http::Router& router();
  /// The Socket.IO server core.
  sb::socketio::Server& sio();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard
