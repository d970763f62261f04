#include "http/server.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/log.h"
#include "common/metrics.h"
#include "http/request_parser.h"
#include "http/status.h"

namespace sb::http {
namespace {

struct HttpMetrics {
  std::array<metrics::Counter, 5> by_class{{
      {"sb_http_requests_total{class=\"1xx\"}", "HTTP responses sent, by status class"},
      {"sb_http_requests_total{class=\"2xx\"}", "HTTP responses sent, by status class"},
      {"sb_http_requests_total{class=\"3xx\"}", "HTTP responses sent, by status class"},
      {"sb_http_requests_total{class=\"4xx\"}", "HTTP responses sent, by status class"},
      {"sb_http_requests_total{class=\"5xx\"}", "HTTP responses sent, by status class"},
  }};
  // Requests refused before reaching a route, by the status they were refused with.
  static constexpr std::array<uint16_t, 8> kErrorStatuses = {400, 405, 411, 413,
                                                             414, 417, 431, 505};
  std::array<metrics::Counter, 9> errors{{
      {"sb_http_parse_errors_total{status=\"400\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"405\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"411\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"413\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"414\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"417\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"431\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"505\"}", "HTTP requests refused by the parser"},
      {"sb_http_parse_errors_total{status=\"other\"}", "HTTP requests refused by the parser"},
  }};
  metrics::Counter timeout_header{"sb_http_timeouts_total{kind=\"header\"}",
                                  "HTTP connections closed by a timeout"};
  metrics::Counter timeout_body{"sb_http_timeouts_total{kind=\"body\"}",
                                "HTTP connections closed by a timeout"};
  metrics::Counter timeout_idle{"sb_http_timeouts_total{kind=\"idle\"}",
                                "HTTP connections closed by a timeout"};
  metrics::Counter handler_errors{"sb_http_handler_errors_total",
                                  "Route handlers that returned without answering"};

  void count_status(uint16_t s) { by_class[std::clamp<size_t>(s / 100, 1, 5) - 1].inc(); }
  void count_error(uint16_t s) {
    size_t i = 0;
    while (i < kErrorStatuses.size() && kErrorStatuses[i] != s)
      ++i;
    errors[i].inc();
  }
};

HttpMetrics& http_metrics() {
  static HttpMetrics m;
  return m;
}

}  // namespace

namespace detail {

// Shared by a session and the PendingResponse handle of a deferred answer. Loop-local, so the
// count is a plain integer; whichever side lets go last frees it.
struct PendingState {
  Session* session = nullptr;  // null once answered or the connection closed
  uint32_t refs = 2;
  UniqueFunction<void()> on_abandoned;
};

void unref(PendingState* s) {
  if (--s->refs == 0) delete s;
}

class Session final : public net::ConnectionHandler {
 public:
  Session(const HttpServer& server, net::Connection& c)
      : server_(server),
        opts_(server.options()),
        conn_(c),
        parser_(ParserLimits{opts_.max_header_bytes, opts_.max_headers}) {
    arm(TimerKind::kHeader);
  }
  ~Session() override {
    abandon_pending();
    abort_body();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  size_t on_data(net::Connection& c, std::span<uint8_t> bytes) override;
  void on_close(net::Connection& c, net::CloseReason reason) override;

  // For Exchange and PendingResponse.
  void respond_now(const Response& r) { send(r, cors_origin_); }
  PendingState* defer(UniqueFunction<void()> on_abandoned);
  void upgrade(std::unique_ptr<net::ConnectionHandler> h, std::string_view raw);
  void complete_pending(const Response& r);
  void close_pending();

 private:
  enum class State : uint8_t { kHead, kBody, kPending, kUpgraded, kClosed };
  enum class TimerKind : uint8_t { kNone, kHeader, kBody, kIdle };

  size_t drain(std::string_view data);
  void dispatch(const Request& req, const RouteMatch& m);
  void reject(uint16_t status, std::string_view reason);
  bool run_head_hook(const Request& req, const RouteMatch& m);
  void send(const Response& r, std::string_view cors_origin,
            net::CloseReason reason = net::CloseReason::kLocal);
  void stash(std::string_view data);
  void run_backlog();
  void settle_timer(bool partial_head);
  void arm(TimerKind k);
  void disarm();
  void on_timeout();
  void abandon_pending();
  void abort_body();

  const HttpServer& server_;
  const ServerOptions& opts_;
  net::Connection& conn_;
  RequestParser parser_;
  State state_ = State::kHead;
  TimerKind timer_kind_ = TimerKind::kNone;
  size_t body_total_ = 0;  // head + body bytes of the request waiting for its body
  // Facts about the request being answered, kept as values: its views die with the buffer.
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_only_ = false;
  std::string_view cors_origin_;  // valid during dispatch only
  std::string pending_origin_;    // the CORS origin of a deferred answer
  PendingState* pending_ = nullptr;
  // The head hook's abort callback for the request whose body is awaited (or about to be
  // dispatched); dropped when the handler runs, called when the connection closes before.
  UniqueFunction<void()> body_abort_;
  // Bytes that arrived while an answer was pending. The loop does not re-present its unconsumed
  // input when reading resumes, so the session keeps them itself (rare: clients do not pipeline
  // behind a long-poll).
  std::string backlog_;
};

size_t Session::on_data(net::Connection& /*c*/, std::span<uint8_t> bytes) {
  const std::string_view data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  switch (state_) {
    case State::kClosed:
    case State::kUpgraded:
      return bytes.size();
    case State::kPending:
      stash(data);
      return bytes.size();
    default:
      break;
  }
  if (!backlog_.empty()) {
    backlog_.append(data);
    run_backlog();
    return bytes.size();
  }
  const size_t consumed = drain(data);
  if (state_ == State::kPending && consumed < data.size()) {
    stash(data.substr(consumed));
    return data.size();
  }
  if (state_ == State::kHead || state_ == State::kBody) settle_timer(consumed < data.size());
  return consumed;
}

// Answers every complete request at the start of `data`; returns the bytes consumed. Stops at an
// incomplete request, a deferred answer, an upgrade, or an error (then everything is consumed).
size_t Session::drain(std::string_view data) {
  size_t consumed = 0;
  Request req;
  while ((state_ == State::kHead || state_ == State::kBody) && consumed < data.size()) {
    const std::string_view rest = data.substr(consumed);
    if (state_ == State::kBody && rest.size() < body_total_) break;
    const ParseResult r = parser_.parse(rest, req);
    if (r.status == ParseStatus::kNeedMore) break;
    if (r.error()) {
      http_metrics().count_error(r.http_status);
      reject(r.http_status, r.reason);
      return data.size();
    }
    const RouteMatch m = server_.router().match(req.path, req.method);
    const uint64_t length = req.content_length.value_or(0);
    const size_t limit = (m.route != nullptr && m.route->max_body_bytes) ? *m.route->max_body_bytes
                                                                         : opts_.max_body_bytes;
    // Decided from the head, before a byte of the body is read.
    if (length > limit) {
      http_metrics().count_error(status::kPayloadTooLarge);
      reject(status::kPayloadTooLarge, "request body too large");
      return data.size();
    }
    const auto expect = req.version_minor == 1 ? req.header("expect") : std::nullopt;
    if (expect && !iequals(*expect, "100-continue")) {
      http_metrics().count_error(status::kExpectationFailed);
      reject(status::kExpectationFailed, "unsupported expectation");
      return data.size();
    }
    // First sight of this head (a body still awaited is not re-announced when it completes).
    if (state_ == State::kHead && !run_head_hook(req, m)) return data.size();
    const size_t total = req.head_size + static_cast<size_t>(length);
    if (rest.size() < total) {
      if (state_ == State::kHead) {  // first sight of this head
        state_ = State::kBody;
        body_total_ = total;
        if (expect) conn_.write("HTTP/1.1 100 Continue\r\n\r\n");
      }
      break;
    }
    req.body = rest.substr(req.head_size, static_cast<size_t>(length));
    state_ = State::kHead;
    consumed += total;
    dispatch(req, m);
  }
  return state_ == State::kClosed ? data.size() : consumed;
}

// Gives the route's head hook its say before the body is awaited. False: the request was refused
// (answered, connection closing).
bool Session::run_head_hook(const Request& req, const RouteMatch& m) {
  if (m.kind != RouteMatch::Kind::kFound || !m.route->on_head) return true;
  const Cors& cors = server_.cors();
  if (cors.enabled() && Cors::is_preflight(req))
    return true;  // answered by dispatch, not the route
  HeadVerdict v = m.route->on_head(req, conn_);
  if (!v.refuse) {
    body_abort_ = std::move(v.on_abort);
    return true;
  }
  // The body may still be streaming: it is never read, so the connection cannot be reused.
  keep_alive_ = false;
  http10_ = req.version_minor == 0;
  head_only_ = req.method == Method::kHead;
  const std::string_view origin = cors.enabled() ? req.header("origin").value_or("") : "";
  send(*v.refuse, origin);
  return false;
}

void Session::dispatch(const Request& req, const RouteMatch& m) {
  disarm();
  body_abort_ = {};  // the request completed: the handler takes it from here
  keep_alive_ = req.keep_alive;
  http10_ = req.version_minor == 0;
  head_only_ = req.method == Method::kHead;
  cors_origin_ = {};
  const Cors& cors = server_.cors();
  if (cors.enabled()) {
    if (Cors::is_preflight(req)) {
      Cors::HeaderArray hs;
      send(cors.preflight(req, hs), {});  // carries its own CORS headers
      return;
    }
    cors_origin_ = req.header("origin").value_or("");
  }
  if (m.kind == RouteMatch::Kind::kNotFound) {
    send(text_response(status::kNotFound, "not found\n"), cors_origin_);
  } else if (m.kind == RouteMatch::Kind::kMethodNotAllowed) {
    const Header allow{"Allow", m.route->allow};
    Response r = text_response(status::kMethodNotAllowed, "method not allowed\n");
    r.headers = std::span<const Header>(&allow, 1);
    send(r, cors_origin_);
  } else {
    Exchange ex(*this, server_, conn_, req);
    m.route->handler(ex);
    if (ex.outcome_ == Exchange::Outcome::kNone && state_ != State::kClosed) {
      http_metrics().handler_errors.inc();
      SB_LOG_ERROR("http: handler for {} returned without answering", m.route->path);
      send(text_response(status::kInternalServerError, "internal error\n"), cors_origin_);
    }
  }
  cors_origin_ = {};
}

void Session::reject(uint16_t code, std::string_view reason) {
  SB_LOG_DEBUG("http: connection {} refused with {}: {}", conn_.id(), code, reason);
  keep_alive_ = false;
  head_only_ = false;
  send(text_response(code, reason), {});
}

void Session::send(const Response& r, std::string_view cors_origin, net::CloseReason reason) {
  if (!conn_.open()) return;
  Cors::HeaderArray extra;
  const size_t n = cors_origin.empty() ? 0 : server_.cors().response_headers(cors_origin, extra);
  Framing f;
  f.close = !keep_alive_;
  f.keep_alive_header = http10_ && keep_alive_;
  f.head_only = head_only_;
  f.extra = std::span<const Header>(extra.data(), n);
  write_response(conn_, r, f);
  http_metrics().count_status(r.status);
  if (f.close) {
    disarm();
    state_ = State::kClosed;
    conn_.close(reason);
  }
}

PendingState* Session::defer(UniqueFunction<void()> on_abandoned) {
  auto* s = new PendingState;
  s->session = this;
  s->on_abandoned = std::move(on_abandoned);
  pending_ = s;
  state_ = State::kPending;
  pending_origin_.assign(cors_origin_);
  return s;
}

void Session::upgrade(std::unique_ptr<net::ConnectionHandler> h, std::string_view raw) {
  disarm();
  if (!raw.empty()) {
    conn_.write(raw);
    http_metrics().count_status(status::kSwitchingProtocols);
  }
  state_ = State::kUpgraded;
  conn_.set_handler(std::move(h));  // destroys this session at the end of the turn
}

void Session::complete_pending(const Response& r) {
  PendingState* s = std::exchange(pending_, nullptr);
  s->session = nullptr;
  unref(s);
  state_ = State::kHead;
  send(r, pending_origin_);
  pending_origin_.clear();
  if (state_ == State::kClosed) return;
  if (!backlog_.empty()) run_backlog();
  if (state_ == State::kHead || state_ == State::kBody) {
    conn_.resume_reading();
    settle_timer(!backlog_.empty());
  }
}

void Session::close_pending() {
  PendingState* s = std::exchange(pending_, nullptr);
  s->session = nullptr;
  unref(s);
  state_ = State::kClosed;
  conn_.close(net::CloseReason::kLocal);
}

void Session::stash(std::string_view data) {
  backlog_.append(data);
  conn_.pause_reading();  // one read's worth at most: the backlog stays bounded
}

void Session::run_backlog() {
  std::string buf = std::move(backlog_);
  backlog_.clear();
  const size_t n = drain(buf);
  if (state_ == State::kUpgraded) {
    // The loop can only hand the new handler bytes from its own buffer; these would be lost.
    if (n < buf.size()) conn_.close(net::CloseReason::kProtocolError);
    return;
  }
  if (state_ == State::kClosed) return;
  if (n < buf.size()) backlog_.assign(buf, n);
  if (state_ == State::kHead || state_ == State::kBody) settle_timer(!backlog_.empty());
}

void Session::settle_timer(bool partial) {
  if (state_ == State::kBody) {
    arm(TimerKind::kBody);
  } else if (partial) {
    arm(TimerKind::kHeader);
  } else {
    arm(TimerKind::kIdle);
  }
}

void Session::arm(TimerKind k) {
  // Header and body deadlines run from the first byte: more bytes do not extend them.
  if (k == timer_kind_ && k != TimerKind::kIdle) return;
  const uint32_t ms = k == TimerKind::kHeader ? opts_.header_timeout_ms
                      : k == TimerKind::kBody ? opts_.body_timeout_ms
                                              : opts_.keepalive_timeout_ms;
  timer_kind_ = k;
  conn_.loop().timers().arm(conn_.timer(), ms, [this] { on_timeout(); });
}

void Session::disarm() {
  if (timer_kind_ == TimerKind::kNone) return;
  timer_kind_ = TimerKind::kNone;
  conn_.timer().cancel();
}

void Session::on_timeout() {
  const TimerKind k = std::exchange(timer_kind_, TimerKind::kNone);
  auto& m = http_metrics();
  if (k == TimerKind::kBody) {
    m.timeout_body.inc();
    keep_alive_ = false;
    head_only_ = false;
    send(text_response(status::kRequestTimeout, "request body timeout\n"), {},
         net::CloseReason::kTimeout);
    return;
  }
  // A head that never completes, or an idle keep-alive connection: close without an answer,
  // like other servers, so a browser's pre-opened socket does not show an error.
  (k == TimerKind::kHeader ? m.timeout_header : m.timeout_idle).inc();
  state_ = State::kClosed;
  conn_.close(net::CloseReason::kTimeout);
}

void Session::on_close(net::Connection& /*c*/, net::CloseReason /*reason*/) {
  disarm();
  state_ = State::kClosed;
  abandon_pending();
  abort_body();
}

void Session::abort_body() {
  if (!body_abort_) return;
  UniqueFunction<void()> cb = std::move(body_abort_);
  body_abort_ = {};
  cb();
}

void Session::abandon_pending() {
  if (pending_ == nullptr) return;
  PendingState* s = std::exchange(pending_, nullptr);
  s->session = nullptr;
  UniqueFunction<void()> cb = std::move(s->on_abandoned);
  unref(s);
  if (cb) cb();
}

}  // namespace detail

// ---- PendingResponse ----

PendingResponse::PendingResponse(PendingResponse&& o) noexcept
    : state_(std::exchange(o.state_, nullptr)) {}

PendingResponse& PendingResponse::operator=(PendingResponse&& o) noexcept {
  if (this != &o) {
    release();
    state_ = std::exchange(o.state_, nullptr);
  }
  return *this;
}

PendingResponse::~PendingResponse() {
  release();
}

bool PendingResponse::active() const {
  return state_ != nullptr && state_->session != nullptr;
}

void PendingResponse::respond(const Response& r) {
  if (active()) state_->session->complete_pending(r);
}

void PendingResponse::close() {
  if (active()) state_->session->close_pending();
}

void PendingResponse::release() {
  if (state_ == nullptr) return;
  if (state_->session != nullptr) {
    // Dropped without an answer: a bug in the owner, but the client must not hang.
    http_metrics().handler_errors.inc();
    SB_LOG_WARN("http: deferred response dropped without an answer");
    state_->session->complete_pending(
        text_response(status::kInternalServerError, "internal error\n"));
  }
  detail::unref(std::exchange(state_, nullptr));
}

// ---- Exchange ----

void Exchange::respond(const Response& r) {
  if (answered()) return;
  outcome_ = Outcome::kResponded;
  session_.respond_now(r);
}

void Exchange::respond(uint16_t code, std::string_view content_type, std::string_view body) {
  respond(Response{code, content_type, body, {}, std::nullopt});
}

PendingResponse Exchange::defer(UniqueFunction<void()> on_abandoned) {
  if (answered()) return PendingResponse();
  outcome_ = Outcome::kDeferred;
  return PendingResponse(session_.defer(std::move(on_abandoned)));
}

void Exchange::upgrade(std::unique_ptr<net::ConnectionHandler> handler,
                       std::string_view raw_response) {
  if (answered()) return;
  outcome_ = Outcome::kUpgraded;
  session_.upgrade(std::move(handler), raw_response);
}

// ---- HttpServer ----

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), cors_(options_.cors) {
  options_.max_headers = std::min(options_.max_headers, kMaxHeadersCapacity);
  http_metrics();  // register every HTTP metric up front: /metrics shows them at 0 from the start
}

std::unique_ptr<net::ConnectionHandler> HttpServer::make_session(net::Connection& c) const {
  return std::make_unique<detail::Session>(*this, c);
}

net::HandlerFactory HttpServer::handler_factory() const {
  return [this](net::Connection& c) { return make_session(c); };
}

void add_builtin_routes(Router& router, int node_id) {
  // The node announces its id on /healthz so `switchboard lb` learns it from the health check
  // itself (DESIGN §4: node ids are announced, never configured twice).
  router.add("/healthz", kGetHead,
             [id = node_id >= 0 ? std::to_string(node_id) : std::string()](Exchange& ex) {
               Response r = text_response(200, "ok");
               const Header h{"X-Switchboard-Node", id};
               if (!id.empty()) r.headers = {&h, 1};
               ex.respond(r);
             });
  router.add("/metrics", kGetHead, [](Exchange& ex) {
    const std::string body = metrics::render_prometheus();
    ex.respond(200, "text/plain; version=0.0.4; charset=utf-8", body);
  });
}

}  // namespace sb::http
