#pragma once
// The HTTP/1.1 server: per-node options and routes (HttpServer, shared read-only by every loop)
// and the per-connection session that the listener's HandlerFactory creates.
//
// A session parses requests in place from the loop's receive buffer, waits for Content-Length
// bodies, answers pipelined requests in order, enforces limits and timeouts, and hands requests to
// route handlers through an Exchange. A handler answers in one of three ways:
//   - now:    ex.respond(...)
//   - later:  auto p = ex.defer(on_abandoned); ... p.respond(...)   (long-polling)
//   - never:  ex.upgrade(std::make_unique<WsHandler>(...), "HTTP/1.1 101 ...")   (WebSocket)
// Everything happens on the connection's loop thread; a PendingResponse is used on that loop only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/unique_function.h"
#include "http/cors.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "net/connection.h"
#include "net/loop.h"

namespace sb::http {

struct ServerOptions {
  size_t max_header_bytes = 16384;        // whole head; over it 431 (414 for the request line)
  size_t max_headers = 100;               // over it 431; at most kMaxHeadersCapacity
  size_t max_body_bytes = 1 << 20;        // default route body limit; over it 413
  uint32_t header_timeout_ms = 10000;     // a head must arrive whole within this (slowloris)
  uint32_t body_timeout_ms = 30000;       // a body must arrive whole within this after its head
  uint32_t keepalive_timeout_ms = 60000;  // idle time allowed between requests
  CorsOptions cors;
  std::string web_root;  // for the app's static route (add_static_route); may not exist
};

namespace detail {
class Session;
struct PendingState;
}  // namespace detail

/// A response owed to a request whose handler deferred it. Move-only value; becomes inert when
/// the connection closes (on_abandoned then runs) or once answered, so holding one past the
/// connection's life is safe. Dropping an active one answers 500 so the client is never stuck.
class PendingResponse {
 public:
  PendingResponse() = default;
  PendingResponse(PendingResponse&& o) noexcept;
  PendingResponse& operator=(PendingResponse&& o) noexcept;
  PendingResponse(const PendingResponse&) = delete;
  PendingResponse& operator=(const PendingResponse&) = delete;
  ~PendingResponse();

  /// True while the connection is open and waiting for this answer.
  bool active() const;
  /// Sends the answer (no-op when inert). Later pipelined requests then proceed.
  void respond(const Response& r);
  /// Closes the connection without an answer (no-op when inert); on_abandoned is not called.
  void close();

 private:
  friend class Exchange;
  explicit PendingResponse(detail::PendingState* s) : state_(s) {}
  void release();
  detail::PendingState* state_ = nullptr;
};

class HttpServer;

/// One request being handled. Lives on the stack for the handler call only.
class Exchange {
 public:
  const Request& request() const { return req_; }
  std::string_view body() const { return req_.body; }
  net::Connection& connection() { return conn_; }
  const HttpServer& server() const { return server_; }

  /// Answers now. Views in `r` need only live for the call.
  void respond(const Response& r);
  void respond(uint16_t status, std::string_view content_type, std::string_view body);
  /// Answers later through the returned handle. `on_abandoned` runs (on the loop) if the
  /// connection closes first. The session reads no further request until the answer is sent.
  PendingResponse defer(UniqueFunction<void()> on_abandoned = {});
  /// Gives the connection to another protocol handler. `raw_response` (e.g. the 101 head) is
  /// written first. Bytes after this request are offered to `handler` in the same turn.
  void upgrade(std::unique_ptr<net::ConnectionHandler> handler, std::string_view raw_response = {});
  /// True once respond/defer/upgrade was called.
  bool answered() const { return outcome_ != Outcome::kNone; }

 private:
  friend class detail::Session;
  enum class Outcome : uint8_t { kNone, kResponded, kDeferred, kUpgraded };
  Exchange(detail::Session& s, const HttpServer& server, net::Connection& c, const Request& req)
      : session_(s), server_(server), conn_(c), req_(req) {}

  detail::Session& session_;
  const HttpServer& server_;
  net::Connection& conn_;
  const Request& req_;
  Outcome outcome_ = Outcome::kNone;
};

/// Options + routes + CORS for a node. Configure (router().add...) before serving; afterwards it
/// is read concurrently by every loop and must not change.
class HttpServer {
 public:
  explicit HttpServer(ServerOptions options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  const Router& router() const { return router_; }
  const ServerOptions& options() const { return options_; }
  const Cors& cors() const { return cors_; }

  /// A new session for an accepted connection (arms its header timeout).
  std::unique_ptr<net::ConnectionHandler> make_session(net::Connection& c) const;
  /// make_session as a listener HandlerFactory; the server must outlive the listeners.
  net::HandlerFactory handler_factory() const;

 private:
  ServerOptions options_;
  Router router_;
  Cors cors_;
};

/// GET/HEAD /healthz → 200 "ok" (with `X-Switchboard-Node: <id>` when node_id >= 0, read by
/// `switchboard lb`); GET/HEAD /metrics → Prometheus text exposition.
void add_builtin_routes(Router& router, int node_id = -1);

}  // namespace sb::http
