#include "lb/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "http/status.h"
#include "lb/admin.h"
#include "lb/cookie.h"
#include "lb/response_parser.h"
#include "net/loop.h"

namespace sb::lb {
namespace {

struct ProxyMetrics {
  metrics::Counter requests{"sb_lb_requests_total", "HTTP requests proxied to a backend"};
  metrics::Counter upgrades{"sb_lb_upgrades_total", "WebSocket tunnels established"};
  metrics::Gauge tunnels{"sb_lb_tunnels_active", "WebSocket tunnels open"};
  metrics::Counter upstream_connects{"sb_lb_upstream_connects_total",
                                     "Connections opened to backends"};
  metrics::Counter upstream_errors{"sb_lb_upstream_errors_total",
                                   "Requests answered 502/504 (backend failed, closed, timed out)"};
  metrics::Counter no_backend{"sb_lb_no_backend_total", "Requests answered 503 (no backend)"};
  metrics::Counter bad_requests{"sb_lb_bad_requests_total",
                                "Client requests refused by the parser"};
};

ProxyMetrics& pm() {
  static ProxyMetrics m;
  return m;
}

bool is_loopback(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the balancer's business, not the backend's.
bool hop_by_hop(std::string_view name) {
  return http::iequals(name, "connection") || http::iequals(name, "keep-alive") ||
         http::iequals(name, "proxy-connection") || http::iequals(name, "te") ||
         http::iequals(name, "trailer");
}

std::string_view first_list_item(std::string_view v) {
  v = v.substr(0, v.find(','));
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ')
    v.remove_suffix(1);
  return v;
}

class ClientSession;

// The backend side of one client connection: parses responses and hands them to the session.
class Upstream final : public net::ConnectionHandler {
 public:
  Upstream(ClientSession* s, Backend& b, uint32_t response_timeout_ms)
      : session_(s), backend_(b), response_timeout_ms_(response_timeout_ms) {
    backend_.active.fetch_add(1, std::memory_order_relaxed);
  }
  size_t on_data(net::Connection& c, std::span<uint8_t> data) override;
  void on_drain(net::Connection& c) override;
  void on_close(net::Connection& c, net::CloseReason reason) override;

  void detach() { session_ = nullptr; }
  /// A request was sent: the next bytes are its response head.
  void expect_response(net::Connection& c, bool head_request, bool upgrade);

 private:
  enum class State : uint8_t { kIdle, kHead, kBody, kTunnel };
  void finish_response();

  ClientSession* session_;
  Backend& backend_;
  uint32_t response_timeout_ms_;
  State state_ = State::kIdle;
  ResponseParser parser_;
  BodyKind kind_ = BodyKind::kNone;
  uint64_t left_ = 0;
  ChunkedScanner chunks_;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool upgrade_ = false;
  bool started_ = false;  // a final response head went to the client
};

class ClientSession final : public net::ConnectionHandler {
 public:
  ClientSession(net::Connection& c, LbShared& shared)
      : client_(c), sh_(shared), parser_(shared.options.request_limits) {
    arm_idle();
  }
  size_t on_data(net::Connection& c, std::span<uint8_t> data) override;
  void on_drain(net::Connection& c) override;
  void on_close(net::Connection& c, net::CloseReason reason) override;

  // Called by Upstream.
  void forward_head(std::string_view head, bool final_response);
  void forward_body(std::string_view bytes);
  void response_done(bool upstream_reusable);
  void start_tunnel();
  void upstream_closed(bool started, bool body_ended_by_close);
  void upstream_drained();
  void fail_upstream(uint16_t status, bool started);

 private:
  enum class State : uint8_t { kHead, kBody, kAwait, kTunnel, kDone };
  size_t on_head(std::string_view rest);
  void proxy_request(const http::Request& req);
  bool ensure_upstream(int backend);
  void drop_upstream();
  void respond_local(uint16_t status, std::string_view content_type, std::string_view body,
                     bool close);
  void arm_idle();

  net::Connection& client_;
  LbShared& sh_;
  http::RequestParser parser_;
  State state_ = State::kHead;
  Upstream* up_ = nullptr;
  net::Connection* up_conn_ = nullptr;
  int up_backend_ = -1;
  uint64_t body_left_ = 0;
  bool client_keep_alive_ = true;
  bool set_cookie_ = false;
  bool head_timer_ = false;  // the header timeout (not the idle one) is armed
};

// ---- Upstream ---------------------------------------------------------------------------------

void Upstream::expect_response(net::Connection& c, bool head_request, bool upgrade) {
  state_ = State::kHead;
  parser_.reset();
  head_request_ = head_request;
  upgrade_ = upgrade;
  started_ = false;
  c.timer().cancel();
  c.loop().timers().arm(c.timer(), response_timeout_ms_, [this, &c] {
    if (session_ != nullptr) session_->fail_upstream(504, started_);
    c.abort(net::CloseReason::kTimeout);
  });
}

void Upstream::finish_response() {
  state_ = State::kIdle;
  started_ = false;
  if (session_ != nullptr) session_->response_done(keep_alive_);
}

size_t Upstream::on_data(net::Connection& c, std::span<uint8_t> data) {
  const std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  size_t off = 0;
  // Loop: one read may hold a response's end and the first tunnel bytes after a 101.
  while (off < all.size()) {
    if (session_ == nullptr) {
      c.abort(net::CloseReason::kLocal);
      return all.size();
    }
    const std::string_view rest = all.substr(off);
    switch (state_) {
      case State::kIdle:  // bytes nobody asked for: the backend is confused, drop it
        SB_LOG_WARN("lb: backend {} sent {} unsolicited bytes", backend_.name, rest.size());
        session_->fail_upstream(502, false);
        c.abort(net::CloseReason::kProtocolError);
        return all.size();
      case State::kHead: {
        static thread_local ResponseHead head;
        const ResponseParse r = parser_.parse(rest, head);
        if (r.status == ResponseStatus::kNeedMore) return off;
        if (r.status == ResponseStatus::kError) {
          SB_LOG_WARN("lb: bad response from backend {}: {}", backend_.name, r.reason);
          session_->fail_upstream(502, false);
          c.abort(net::CloseReason::kProtocolError);
          return all.size();
        }
        const std::string_view bytes = rest.substr(0, head.head_size);
        off += head.head_size;
        if (head.status == 101) {
          if (!upgrade_) {
            session_->fail_upstream(502, false);
            c.abort(net::CloseReason::kProtocolError);
            return all.size();
          }
          c.timer().cancel();
          session_->forward_head(bytes, false);
          state_ = State::kTunnel;
          session_->start_tunnel();
          break;
        }
        if (head.status < 200) {  // 100 Continue and friends: pass on, the final one follows
          session_->forward_head(bytes, false);
          break;
        }
        c.timer().cancel();
        keep_alive_ = head.keep_alive;
        kind_ = head.body_kind(head_request_);
        started_ = true;
        session_->forward_head(bytes, true);
        if (kind_ == BodyKind::kNone) {
          finish_response();
        } else {
          state_ = State::kBody;
          left_ = head.content_length.value_or(0);
          chunks_ = ChunkedScanner{};
          if (kind_ == BodyKind::kUntilClose) keep_alive_ = false;
        }
        break;
      }
      case State::kBody: {
        size_t n = rest.size();
        bool done = false;
        if (kind_ == BodyKind::kLength) {
          n = static_cast<size_t>(std::min<uint64_t>(left_, rest.size()));
          left_ -= n;
          done = left_ == 0;
        } else if (kind_ == BodyKind::kChunked) {
          const ChunkedScanner::Step step = chunks_.feed(rest);
          if (step.error) {
            SB_LOG_WARN("lb: bad chunked body from backend {}", backend_.name);
            session_->fail_upstream(502, true);
            c.abort(net::CloseReason::kProtocolError);
            return all.size();
          }
          n = step.consumed;
          done = chunks_.done();
        }
        session_->forward_body(rest.substr(0, n));
        off += n;
        if (done) finish_response();
        break;
      }
      case State::kTunnel:
        session_->forward_body(rest);
        return all.size();
    }
  }
  return off;
}

void Upstream::on_drain(net::Connection& /*c*/) {
  if (session_ != nullptr) session_->upstream_drained();
}

void Upstream::on_close(net::Connection& /*c*/, net::CloseReason reason) {
  backend_.active.fetch_sub(1, std::memory_order_relaxed);
  if (session_ == nullptr) return;
  const bool ended_by_close = state_ == State::kBody && kind_ == BodyKind::kUntilClose;
  if (reason != net::CloseReason::kPeerClosed && state_ != State::kIdle) {
    SB_LOG_DEBUG("lb: backend {} connection closed ({})", backend_.name,
                 net::close_reason_name(reason));
  }
  ClientSession* s = session_;
  session_ = nullptr;
  s->upstream_closed(started_, ended_by_close);
}

// ---- ClientSession ------------------------------------------------------------------------------

void ClientSession::arm_idle() {
  head_timer_ = false;
  client_.loop().timers().arm(client_.timer(), sh_.options.idle_timeout_ms,
                              [this] { client_.close(net::CloseReason::kTimeout); });
}

size_t ClientSession::on_data(net::Connection& /*c*/, std::span<uint8_t> data) {
  const std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  size_t off = 0;
  while (off < all.size()) {
    const std::string_view rest = all.substr(off);
    switch (state_) {
      case State::kHead: {
        const size_t n = on_head(rest);
        if (n == 0) return off;
        off += n;
        break;
      }
      case State::kBody: {
        if (up_conn_ == nullptr) return all.size();
        const size_t n = static_cast<size_t>(std::min<uint64_t>(body_left_, rest.size()));
        up_conn_->write(rest.substr(0, n));
        body_left_ -= n;
        off += n;
        if (body_left_ == 0) {
          state_ = State::kAwait;
          client_.pause_reading();
          return off;
        }
        if (up_conn_->above_high_watermark()) {
          client_.pause_reading();  // resumed by the upstream's on_drain
          return off;
        }
        break;
      }
      case State::kAwait:
        return off;  // a pipelined request waits (unconsumed) until this response is through
      case State::kTunnel:
        if (up_conn_ == nullptr) return all.size();
        up_conn_->write(rest);
        if (up_conn_->above_high_watermark()) client_.pause_reading();
        return all.size();
      case State::kDone:
        return all.size();
    }
  }
  return off;
}

// Parses one request head at the start of `rest`; returns the bytes consumed (0: need more).
size_t ClientSession::on_head(std::string_view rest) {
  static thread_local http::Request req;
  const http::ParseResult r = parser_.parse(rest, req);
  if (r.status == http::ParseStatus::kNeedMore) {
    if (!head_timer_) {  // a request has begun: it gets the header timeout, not the idle one
      head_timer_ = true;
      client_.loop().timers().arm(client_.timer(), sh_.options.header_timeout_ms,
                                  [this] { respond_local(408, "text/plain", "timeout\n", true); });
    }
    return 0;
  }
  if (r.status == http::ParseStatus::kError) {
    pm().bad_requests.inc();
    respond_local(r.http_status, "text/plain", r.reason, true);
    return rest.size();
  }
  client_.timer().cancel();
  head_timer_ = false;
  const uint64_t body = req.content_length.value_or(0);
  if (body > sh_.options.max_body_bytes) {
    respond_local(413, "text/plain", "request body too large\n", true);
    return rest.size();
  }
  if (req.path.starts_with("/lb/") && is_loopback(client_.peer())) {
    if (body > 0) {
      respond_local(400, "text/plain", "admin requests take no body\n", true);
      return rest.size();
    }
    const AdminAnswer a = handle_admin(sh_, req);
    respond_local(a.status, a.content_type, a.body, !req.keep_alive);
    if (req.keep_alive) arm_idle();
    return req.head_size;
  }
  proxy_request(req);
  return req.head_size;
}

void ClientSession::proxy_request(const http::Request& req) {
  const LbOptions& o = sh_.options;
  std::string client_ip = client_.peer_ip();
  const auto xff = req.header("x-forwarded-for");
  RouteInput in;
  in.client_key = client_ip;
  if (o.trust_forwarded && xff && !first_list_item(*xff).empty()) {
    in.client_key = first_list_item(*xff);
  }
  in.sid = query_param(req.query, "sid");
  if (const auto cookies = req.header("cookie")) in.cookie = find_cookie(*cookies, o.cookie_name);
  const RouteDecision d = route(sh_.pool, o.mode, in);
  if (d.backend < 0) {
    pm().no_backend.inc();
    respond_local(503, "text/plain", "no backend available\n", true);
    return;
  }
  if (!ensure_upstream(d.backend)) {
    pm().upstream_errors.inc();
    respond_local(502, "text/plain", "backend unreachable\n", true);
    return;
  }
  pm().requests.inc();
  // The head as the backend gets it: HTTP/1.1 (keep-alive is ours to decide), hop-by-hop headers
  // replaced, the client's address and scheme appended.
  static thread_local std::string out;
  out.clear();
  out.append(http::method_name(req.method)).append(" ").append(req.target).append(" HTTP/1.1\r\n");
  for (const http::Header& h : req.headers()) {
    if (hop_by_hop(h.name)) continue;
    if (http::iequals(h.name, "x-forwarded-for") || http::iequals(h.name, "x-forwarded-proto")) {
      continue;
    }
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (req.upgrade) out.append("Connection: Upgrade\r\n");
  out.append("X-Forwarded-For: ");
  if (o.trust_forwarded && xff) out.append(*xff).append(", ");
  out.append(client_ip).append("\r\n");
  const auto proto = req.header("x-forwarded-proto");
  out.append("X-Forwarded-Proto: ")
      .append(o.trust_forwarded && proto ? *proto : std::string_view("http"))
      .append("\r\n\r\n");
  up_conn_->write(out);
  up_->expect_response(*up_conn_, req.method == http::Method::kHead, req.upgrade);
  client_keep_alive_ = req.keep_alive;
  set_cookie_ = d.set_cookie;
  body_left_ = req.content_length.value_or(0);
  if (body_left_ > 0) {
    state_ = State::kBody;
  } else {
    state_ = State::kAwait;
    client_.pause_reading();
  }
}

bool ClientSession::ensure_upstream(int backend) {
  // Reuse only an open connection to the same backend (one the backend just closed is not).
  if (up_conn_ != nullptr && up_backend_ == backend && up_conn_->open()) return true;
  // Another backend (or none yet): the old connection must not carry this request.
  drop_upstream();
  Backend& b = sh_.pool.at(static_cast<size_t>(backend));
  auto fd = connect_nonblocking(b.addr, b.addr_len);
  if (!fd) {
    SB_LOG_WARN("lb: connect to {} failed: {}", b.name, fd.error().reason);
    return false;
  }
  auto handler = std::make_unique<Upstream>(this, b, sh_.options.response_timeout_ms);
  up_ = handler.get();
  up_conn_ = client_.loop().adopt(*fd, b.addr, std::move(handler));
  up_backend_ = backend;
  pm().upstream_connects.inc();
  return true;
}

void ClientSession::drop_upstream() {
  if (up_ != nullptr) {
    up_->detach();
    up_conn_->close();
  }
  up_ = nullptr;
  up_conn_ = nullptr;
  up_backend_ = -1;
}

void ClientSession::forward_head(std::string_view head, bool final_response) {
  if (final_response && set_cookie_ && up_backend_ >= 0 && head.size() >= 2) {
    // Insert the affinity cookie before the blank line that ends the head.
    client_.write(head.substr(0, head.size() - 2));
    const Backend& b = sh_.pool.at(static_cast<size_t>(up_backend_));
    client_.write(
        set_cookie_header(sh_.options.cookie_name, b.token, sh_.options.cookie_attributes));
    client_.write("\r\n\r\n");
    set_cookie_ = false;
    return;
  }
  client_.write(head);
}

void ClientSession::forward_body(std::string_view bytes) {
  client_.write(bytes);
  if (up_conn_ != nullptr && client_.above_high_watermark()) up_conn_->pause_reading();
}

void ClientSession::response_done(bool upstream_reusable) {
  // An answer before the whole request body was sent (an early 413, say): the rest of the body is
  // still on its way from the client and on the backend connection, so neither can be reused.
  const bool body_unsent = state_ == State::kBody;
  if (!upstream_reusable || body_unsent) drop_upstream();
  if (!client_keep_alive_ || body_unsent) {
    state_ = State::kDone;
    client_.close();
    return;
  }
  state_ = State::kHead;
  arm_idle();
  client_.resume_reading();  // a pipelined request that waited is offered again
}

void ClientSession::start_tunnel() {
  pm().upgrades.inc();
  pm().tunnels.add(1);
  state_ = State::kTunnel;
  client_.timer().cancel();  // the backend's WebSocket heartbeat decides liveness from now on
  client_.resume_reading();
}

void ClientSession::upstream_closed(bool started, bool body_ended_by_close) {
  up_ = nullptr;
  up_conn_ = nullptr;
  up_backend_ = -1;
  switch (state_) {
    case State::kTunnel:
      state_ = State::kDone;
      client_.close();
      break;
    case State::kBody:
    case State::kAwait:
      state_ = State::kDone;
      if (body_ended_by_close) {
        client_.close();
      } else if (started) {
        client_.abort(net::CloseReason::kIoError);  // truncated: the client must not trust it
      } else {
        pm().upstream_errors.inc();
        respond_local(502, "text/plain", "backend closed the connection\n", true);
      }
      break;
    case State::kHead:  // an idle keep-alive connection the backend let go
    case State::kDone:
      break;
  }
}

void ClientSession::fail_upstream(uint16_t status, bool started) {
  drop_upstream();
  if (state_ != State::kBody && state_ != State::kAwait && state_ != State::kTunnel) return;
  pm().upstream_errors.inc();
  if (started || state_ == State::kTunnel) {
    client_.abort(net::CloseReason::kIoError);
  } else {
    respond_local(status, "text/plain",
                  status == 504 ? "backend timeout\n" : "bad response from backend\n", true);
  }
  state_ = State::kDone;
}

void ClientSession::upstream_drained() {
  if (state_ == State::kBody || state_ == State::kTunnel) client_.resume_reading();
}

void ClientSession::on_drain(net::Connection& /*c*/) {
  if (up_conn_ != nullptr) up_conn_->resume_reading();
}

void ClientSession::on_close(net::Connection& /*c*/, net::CloseReason /*reason*/) {
  // The backend gets what is still queued for it (tunnel bytes), then a FIN.
  if (up_ != nullptr) {
    up_->detach();
    up_conn_->close();
    up_ = nullptr;
    up_conn_ = nullptr;
  }
  if (state_ == State::kTunnel) pm().tunnels.add(-1);
}

void ClientSession::respond_local(uint16_t status, std::string_view content_type,
                                  std::string_view body, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out.append(http::reason_phrase(status)).append("\r\nContent-Type: ").append(content_type);
  out.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n").append(body);
  client_.write(out);
  if (close) {
    state_ = State::kDone;
    client_.close();
  }
}

}  // namespace

std::unique_ptr<net::ConnectionHandler> make_client_session(net::Connection& c, LbShared& shared) {
  return std::make_unique<ClientSession>(c, shared);
}

Result<int> connect_nonblocking(const sockaddr_storage& addr, socklen_t len) {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{Errc::kIo, "socket() failed"};
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) < 0 && errno != EINPROGRESS) {
    ::close(fd);
    return Error{Errc::kIo, "connect() failed"};
  }
  return fd;
}

}  // namespace sb::lb
