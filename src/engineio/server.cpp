#include "engineio/server.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "common/metrics.h"
#include "engineio/eio_metrics.h"
#include "engineio/http_compress.h"
#include "engineio/query.h"
#include "engineio/sid.h"
#include "engineio/ws_transport.h"
#include "net/loop.h"

namespace sb::engineio {
namespace {

// The client's address as a trusted balancer reports it: the last X-Forwarded-For entry is the
// one the balancer itself appended (the peer it saw); anything before it came from the client.
std::string client_address(std::string peer, const http::Request& req,
                           const std::vector<std::string>& trusted) {
  bool from_trusted = false;
  for (const std::string& t : trusted)
    from_trusted = from_trusted || t == peer;
  if (!from_trusted) return peer;
  std::string_view xff;
  for (const http::Header& h : req.headers())
    if (http::iequals(h.name, "x-forwarded-for")) xff = h.value;  // the last header wins
  if (xff.empty()) return peer;
  const size_t comma = xff.rfind(',');
  std::string_view last = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t'))
    last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t'))
    last.remove_suffix(1);
  return last.empty() ? peer : std::string(last);
}

constexpr std::string_view kPayloadType = "text/plain; charset=UTF-8";

// Request headers kept in HandshakeInfo (the rest is not copied).
constexpr std::array<std::string_view, 10> kKeptHeaders = {
    "host",          "origin",          "user-agent",
    "cookie",        "referer",         "accept-language",
    "authorization", "x-forwarded-for", "x-forwarded-proto",
    "x-real-ip"};

// True when this thread is running `loop` (Loop::run gives each loop thread metrics slot
// index + 1). Abandonment callbacks also run from ~Loop at process exit, on the main thread,
// when other loops may already be gone: they must not post then.
bool on_loop_thread(const net::Loop& loop) {
  return metrics::thread_slot() == loop.index() + 1;
}

// Node refuses an Origin with characters outside tab, 0x20-0x7e and 0x80-0xff.
bool origin_invalid(const http::Request& req) {
  const auto origin = req.header("origin");
  if (!origin) return false;
  for (const char ch : *origin) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0x7f || (c < 0x20 && c != '\t')) return true;
  }
  return false;
}

// Answers `target` (an Exchange or a PendingResponse) with a polling reply.
template <typename Target>
void respond_with(Target& target, const PollReply& r) {
  std::array<http::Header, 4> hs;
  size_t n = 0;
  std::string_view type;
  switch (r.kind) {
    case PollReply::Kind::kPayload:
      type = kPayloadType;
      break;
    case PollReply::Kind::kOk:
      type = "text/html";  // Node: avoids a download dialog on some user agents (GH-43)
      break;
    case PollReply::Kind::kError:
      type = "application/json";
      break;
    case PollReply::Kind::kEmpty:
      break;
  }
  if (r.kind == PollReply::Kind::kPayload || r.kind == PollReply::Kind::kOk) {
    hs[n++] = {"cache-control", "no-store"};
    if (r.xss_header) hs[n++] = {"X-XSS-Protection", "0"};
  }
  if (r.encoding != ContentEncoding::kIdentity) {
    hs[n++] = {"Content-Encoding", encoding_name(r.encoding)};
  }
  if (!r.set_cookie.empty()) hs[n++] = {"Set-Cookie", r.set_cookie};
  target.respond(http::Response{r.status, type, r.body, std::span<const http::Header>(hs.data(), n),
                                std::nullopt});
}

void respond_error(http::Exchange& ex, ErrorCode code) {
  respond_with(ex, PollReply::error(code));
}

// A refused WebSocket upgrade gets Node's raw answer (400 even for code 4, text/html, the bare
// message) and the connection is closed.
class DiscardHandler final : public net::ConnectionHandler {
 public:
  size_t on_data(net::Connection& /*c*/, std::span<uint8_t> data) override { return data.size(); }
};

void abort_upgrade(http::Exchange& ex, ErrorCode code) {
  eio_metrics().count_error(code);
  const std::string_view msg = error_message(code);
  std::string raw =
      "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\n"
      "Content-Length: " +
      std::to_string(msg.size()) + "\r\n\r\n";
  raw.append(msg);
  ex.upgrade(std::make_unique<DiscardHandler>(), raw);
  ex.connection().close();
}

bool is_old_ie(const http::Request& req) {
  const auto ua = req.header("user-agent");
  return ua && (ua->find(";MSIE") != std::string_view::npos ||
                ua->find("Trident/") != std::string_view::npos);
}

PollWaiter make_waiter(const http::Exchange& ex, net::Loop& loop) {
  PollWaiter w;
  w.loop = loop.index();
  const auto ae = ex.request().header("accept-encoding");
  w.encoding = ae ? negotiate_encoding(*ae) : ContentEncoding::kIdentity;
  w.xss_header = is_old_ie(ex.request());
  return w;
}

}  // namespace

Server::Server(Options options, Handler& handler)
    : options_(std::move(options)),
      handler_(handler),
      bridge_(std::make_unique<WsBridge>(*this)),
      ws_route_{*bridge_, ws_options_} {
  eio_metrics();  // registered up front: /metrics shows the series from the start
}

Server::~Server() = default;

void Server::attach(http::Router& router, net::LoopGroup& loops, const http::Cors& cors) {
  loops_ = &loops;
  cors_ = &cors;
  loop_count_ = loops.size();
  per_loop_ = std::make_unique<PerLoop[]>(static_cast<size_t>(loop_count_));
  // The wheel fires a timer up to one tick after its deadline. Heartbeat deadlines are set one
  // tick short instead, so a ping and a ping timeout happen within [d - tick, d], never after:
  // clients and conformance suites measure "pingInterval + pingTimeout" from their side, with
  // no margin beyond a round trip.
  auto early = [](uint32_t ms) -> uint64_t {
    return ms > net::TimerWheel::kTickMs ? ms - net::TimerWheel::kTickMs : ms;
  };
  for (int i = 0; i < loop_count_; ++i) {
    PerLoop& pl = per_loop_[static_cast<size_t>(i)];
    pl.loop = &loops.loop(i);
    pl.ping = std::make_unique<HeartbeatQueue>(*pl.loop, early(options_.ping_interval_ms),
                                               &Socket::fire_heartbeat);
    pl.pong = std::make_unique<HeartbeatQueue>(*pl.loop, early(options_.ping_timeout_ms),
                                               &Socket::fire_heartbeat);
    pl.closing = std::make_unique<HeartbeatQueue>(*pl.loop, options_.close_timeout_ms,
                                                  &Socket::fire_close_timeout);
  }
  ws_options_.limits.max_message_size = options_.max_http_buffer_size;
  ws_options_.deflate = options_.deflate;
  ws_options_.deflate.enabled = options_.per_message_deflate;
  handshake_options_.deflate = ws_options_.deflate;
  handshake_options_.allow_origin = [&cors](std::string_view origin) {
    return cors.origin_allowed(origin);
  };
  using http::Method;
  router.add_prefix(
      options_.path,
      {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kDelete, Method::kOptions,
       Method::kPatch},
      [this](http::Exchange& ex) { handle(ex); }, options_.max_http_buffer_size,
      [this](const http::Request& req, net::Connection& c) { return on_post_head(req, c); });
}

Server::PerLoop& Server::local(net::Loop& loop) const {
  return per_loop_[static_cast<size_t>(loop.index())];
}

net::Loop& Server::loop_at(int index) const {
  return *per_loop_[static_cast<size_t>(index)].loop;
}

Socket* Server::find(net::Loop& loop, std::string_view sid) {
  return local(loop).sessions.find(sid);
}

Server::PerLoop::~PerLoop() {
  // Deleting a session does not touch the table (retire() does, and is not called here).
  sessions.for_each([](Socket& s) { delete &s; });  // NOLINT(cppcoreguidelines-owning-memory)
}

size_t Server::session_count(net::Loop& loop) const {
  return local(loop).sessions.size();
}

std::string Server::make_sid(const net::Loop& loop) const {
  return generate_sid(SidOwner{options_.node_id, static_cast<uint8_t>(loop.index())});
}

std::string Server::cookie_header(std::string_view sid) const {
  const CookieOptions& c = options_.cookie;
  std::string v = c.name + "=" + std::string(sid);
  if (c.max_age_s) v += "; Max-Age=" + std::to_string(*c.max_age_s);
  if (!c.domain.empty()) v += "; Domain=" + c.domain;
  if (!c.path.empty()) v += "; Path=" + c.path;
  if (c.http_only) v += "; HttpOnly";
  if (c.secure) v += "; Secure";
  if (!c.same_site.empty()) v += "; SameSite=" + c.same_site;
  return v;
}

// ---- request dispatch (on the accepting loop) ----

void Server::handle(http::Exchange& ex) {
  const http::Request& req = ex.request();
  const EngineQuery q = parse_engine_query(req.target);
  if (req.method == http::Method::kPost && q.sid) {
    // This POST's body is complete: it is no longer in flight, whatever the answer below
    // (on_post_head marked it).
    PerLoop& pl = local(ex.connection().loop());
    auto it = pl.posts_in_flight.find(*q.sid);
    if (it != pl.posts_in_flight.end() && it->second == ex.connection().id()) {
      pl.posts_in_flight.erase(it);
    }
  }
  const bool upgrade = req.upgrade && req.header("upgrade").has_value();
  auto refuse = [&](ErrorCode code) {
    if (upgrade) {
      abort_upgrade(ex, code);
    } else {
      respond_error(ex, code);
    }
  };
  // The same key twice is ambiguous (a balancer may route on the first sid, we would read the
  // last): refused rather than guessed.
  if (q.duplicate) return refuse(ErrorCode::kBadRequest);
  const std::optional<Transport> transport =
      q.transport ? parse_transport(*q.transport) : std::nullopt;
  if (!transport || !options_.transport_enabled(*transport)) {
    return refuse(ErrorCode::kTransportUnknown);
  }
  if (origin_invalid(req)) return refuse(ErrorCode::kBadRequest);
  const bool eio4 = q.eio && *q.eio == "4";

  if (q.sid && !q.sid->empty()) {  // Node: an empty sid is no sid
    const std::optional<SidOwner> owner = decode_sid(*q.sid);
    if (!owner || owner->node_id != options_.node_id || owner->loop_id >= loop_count_) {
      return refuse(ErrorCode::kUnknownSid);
    }
    if (upgrade) {
      if (*transport != Transport::kWebSocket) return refuse(ErrorCode::kBadRequest);
      return handle_upgrade(ex, &*q.sid, eio4);
    }
    return handle_polling(ex, *q.sid, owner->loop_id, eio4, *transport == Transport::kPolling);
  }
  if (req.method != http::Method::kGet) return refuse(ErrorCode::kBadHandshakeMethod);
  if (*transport == Transport::kWebSocket && !upgrade) return refuse(ErrorCode::kBadRequest);
  if (!eio4) return refuse(ErrorCode::kUnsupportedProtocolVersion);
  if (upgrade) {
    if (*transport != Transport::kWebSocket) return refuse(ErrorCode::kBadRequest);
    return handle_upgrade(ex, nullptr, true);
  }
  handle_handshake_polling(ex);
}

Socket& Server::create_socket(PerLoop& pl, std::string_view sid, Transport t, http::Exchange& ex) {
  const http::Request& req = ex.request();
  const std::string address =
      client_address(ex.connection().peer_ip(), req, options_.trusted_proxies);
  const auto issued_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  // Packed into one exact-size block (handshake_info.h): it lives as long as the session.
  HandshakeBuilder hb(req.target, address, issued_ms);
  const std::string_view query = detail::query_part(req.target);
  if (query.find_first_of("%+") == std::string_view::npos) {
    // Nothing to decode (the usual case): the pairs are read from the url's own bytes.
    hb.use_raw_query(static_cast<size_t>(query.data() - req.target.data()), query.size());
  } else {
    for_each_query_param(req.target,
                         [&hb](std::string_view k, std::string_view v) { hb.add_query(k, v); });
  }
  for (const http::Header& h : req.headers()) {
    for (std::string_view kept : kKeptHeaders) {
      if (http::iequals(h.name, kept)) {
        hb.add_header(kept, h.value);
        break;
      }
    }
  }
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): owned by the table until retire()
  auto* s = new Socket(*this, *pl.loop, sid, t, hb.finish());
  pl.sessions.insert(s);
  auto& m = eio_metrics();
  m.active.add(1);
  m.opened[t == Transport::kPolling ? 0 : 1].inc();
  m.session_opened(t);
  return *s;
}

void Server::handle_handshake_polling(http::Exchange& ex) {
  net::Loop& loop = ex.connection().loop();
  PerLoop& pl = local(loop);
  Socket& s = create_socket(pl, make_sid(loop), Transport::kPolling, ex);
  // The handshake GET carries the open packet alone, as in Node; what on_open sends waits for
  // the next GET.
  PollReply r = s.payload_reply(make_waiter(ex, loop), s.open_packet());
  if (options_.cookie.enabled) r.set_cookie = cookie_header(s.sid());
  respond_with(ex, r);
  s.start(nullptr);
  handler_.on_open(s);
}

void Server::handle_polling(http::Exchange& ex, const std::string& sid, int owner, bool eio4,
                            bool polling) {
  net::Loop& loop = ex.connection().loop();
  PerLoop& pl = local(loop);
  PollCall call;
  call.method = ex.request().method;
  call.eio4 = eio4;
  call.polling = polling;
  const auto ct = ex.request().header("content-type");
  call.octet_stream = ct && http::iequals(*ct, "application/octet-stream");
  call.waiter = make_waiter(ex, loop);
  const uint64_t id = pl.next_park_id++;
  call.waiter.id = id;
  const int here = loop.index();

  // If the connection closes while the answer is parked: forget it, and tell the owner that
  // its GET is gone (Node closes the session: "poll connection closed prematurely").
  auto on_abandoned = [this, &pl, id, here, owner, sid] {
    pl.parked.erase(id);
    if (!on_loop_thread(*pl.loop)) return;
    get_abandoned(owner, sid, here, id);
  };

  if (owner == here) {
    std::optional<PollReply> r = serve_polling(pl, sid, call, ex.body());
    if (r) {
      respond_with(ex, *r);
    } else {
      pl.parked.emplace(id, ex.defer(std::move(on_abandoned)));
    }
    return;
  }
  // Another loop owns the session: park the answer here and hand the request over.
  eio_metrics().cross_loop_requests.inc();
  pl.parked.emplace(id, ex.defer(std::move(on_abandoned)));
  loop_at(owner).post([this, owner, sid, call, body = std::string(ex.body())] {
    PerLoop& opl = local(loop_at(owner));
    std::optional<PollReply> r = serve_polling(opl, sid, call, body);
    if (r) deliver(owner, call.waiter, std::move(*r));
  });
}

// Node refuses a POST while another one's body is being read ("data request overlap from
// client": 400 without a body, the session closes with "transport error"). Our HTTP layer reads
// the whole body before the handler, so the overlap is caught here, at head time. Only a session
// of this loop can be checked (another loop's is not ours to touch): a POST that arrived on
// another loop is checked by its owner when its body is handed over (serve_polling).
http::HeadVerdict Server::on_post_head(const http::Request& req, net::Connection& c) {
  if (req.method != http::Method::kPost) return {};
  const EngineQuery q = parse_engine_query(req.target);
  if (q.duplicate || !q.sid || q.sid->empty()) return {};  // answered by handle()
  PerLoop& pl = local(c.loop());
  Socket* s = find(*pl.loop, *q.sid);
  if (s == nullptr || s->transport() != Transport::kPolling) return {};
  http::HeadVerdict v;
  if (pl.posts_in_flight.find(*q.sid) != pl.posts_in_flight.end()) {
    s->finish("transport error", PacketType::kClose);
    v.refuse = http::Response{400, {}, {}, {}, std::nullopt};
    return v;
  }
  pl.posts_in_flight.emplace(*q.sid, c.id());
  // The connection closed before the body was complete (client gone, body timeout): Node
  // closes the session ("data request connection closed prematurely").
  v.on_abort = [this, &pl, sid = *q.sid, id = c.id()] {
    auto it = pl.posts_in_flight.find(sid);
    if (it == pl.posts_in_flight.end() || it->second != id) return;
    pl.posts_in_flight.erase(it);
    if (!on_loop_thread(*pl.loop)) return;  // the loop is being torn down
    if (Socket* session = find(*pl.loop, sid)) {
      session->finish("transport error", PacketType::kClose);
    }
  };
  return v;
}

std::optional<PollReply> Server::serve_polling(PerLoop& pl, std::string_view sid,
                                               const PollCall& call, std::string_view body) {
  Socket* s = find(*pl.loop, sid);
  if (s == nullptr) return PollReply::error(ErrorCode::kUnknownSid);
  // Transport mismatch (the session upgraded, or a plain GET claiming websocket), then
  // protocol mismatch: both "Bad request", in Node's order.
  if (!call.polling || s->transport() != Transport::kPolling) {
    return PollReply::error(ErrorCode::kBadRequest);
  }
  if (!call.eio4) return PollReply::error(ErrorCode::kBadRequest);
  if (call.method == http::Method::kGet) return s->on_get(call.waiter);
  if (call.method == http::Method::kPost) {
    if (pl.posts_in_flight.count(std::string(sid)) != 0) {
      // Another POST's body is still streaming on this loop (this one was handed over from
      // another loop, whose head hook cannot see the session): Node's overlap answer.
      s->finish("transport error", PacketType::kClose);
      return PollReply::empty(400);
    }
    PollReply r = s->on_post(body, call.octet_stream);
    r.xss_header = call.waiter.xss_header && r.kind == PollReply::Kind::kOk;
    return r;
  }
  return PollReply::empty(500);  // Node: any other method on a session
}

void Server::deliver(int from_loop, const PollWaiter& w, PollReply reply) {
  if (w.loop == from_loop) {
    complete_parked(local(loop_at(from_loop)), w.id, reply);
    return;
  }
  loop_at(w.loop).post([this, loop = w.loop, id = w.id, reply = std::move(reply)] {
    complete_parked(local(loop_at(loop)), id, reply);
  });
}

void Server::complete_parked(PerLoop& pl, uint64_t id, const PollReply& reply) {
  auto it = pl.parked.find(id);
  if (it == pl.parked.end()) return;  // the request's connection is gone
  http::PendingResponse p = std::move(it->second);
  pl.parked.erase(it);
  respond_with(p, reply);
}

void Server::get_abandoned(int owner, const std::string& sid, int loop, uint64_t id) {
  auto run = [this, owner, sid, loop, id] {
    Socket* s = find(loop_at(owner), sid);
    if (s != nullptr) s->on_get_abandoned(loop, id);
  };
  if (owner == loop) {
    run();
  } else {
    loop_at(owner).post(std::move(run));
  }
}

// ---- WebSocket ----

void Server::handle_upgrade(http::Exchange& ex, const std::string* sid, bool eio4) {
  net::Loop& loop = ex.connection().loop();
  PerLoop& pl = local(loop);
  const int here = loop.index();
  int owner = here;
  Socket* existing = nullptr;
  std::string new_sid;
  if (sid != nullptr) {
    owner = decode_sid(*sid)->loop_id;
    if (owner == here) {
      existing = find(loop, *sid);
      if (existing == nullptr) return abort_upgrade(ex, ErrorCode::kUnknownSid);
    }
    if (!eio4) return abort_upgrade(ex, ErrorCode::kBadRequest);  // every session is v4
  } else {
    new_sid = make_sid(loop);
  }

  ws::HandshakeOutcome out;
  if (sid == nullptr && options_.cookie.enabled) {
    const std::string extra = "Set-Cookie: " + cookie_header(new_sid) + "\r\n";
    ws::HandshakeOptions hs = handshake_options_;
    hs.extra_headers = extra;
    out = ws::validate_upgrade(ex.request(), hs);
  } else {
    out = ws::validate_upgrade(ex.request(), handshake_options_);
  }
  if (!out.ok()) {
    static constexpr std::array<http::Header, 1> kVersion{
        http::Header{"Sec-WebSocket-Version", "13"}};
    http::Response r = http::text_response(static_cast<uint16_t>(out.status), out.reason);
    if (out.status == 426) r.headers = kVersion;
    ex.respond(r);
    return;
  }

  // One pooled block: the ws::Session, its binding and the socket's link (ws_transport.h).
  auto owned = std::make_unique<EioWebSocket>(ex.connection(), ws_route_, out.deflate);
  EioWebSocket* ws = owned.get();
  const uint64_t key = ws->key();
  ex.upgrade(std::move(owned), out.response);
  ws->start();

  if (sid == nullptr) {
    Socket& s = create_socket(pl, new_sid, Transport::kWebSocket, ex);
    s.start(ws->link_to(s));
    handler_.on_open(s);
    return;
  }
  if (owner == here) {
    // Node answers the 101 first, then closes a WebSocket that cannot upgrade the session (a
    // refused link has been released: no event goes back to the session).
    if (!existing->attach_probe(ws->link_to(*existing))) {
      ws->ws::Session::close(ws::close_code::kNoStatus);
    }
    return;
  }
  // The session lives on another loop: relay this WebSocket to it.
  eio_metrics().relayed_websockets.inc();
  ws->mark_relayed();
  RelayedWs& r = pl.relayed[key];
  r.ws = ws;
  r.owner_loop = owner;
  std::memcpy(r.sid.data(), sid->data(), std::min(sid->size(), kSidLength));
  loop_at(owner).post([this, owner, sid = *sid, here, key] {
    Socket* s = find(loop_at(owner), sid);
    if (s == nullptr || !s->attach_probe(bridge_->remote_link(here, key))) {
      bridge_->relay_close(here, key);
    }
  });
}

// ---- session bookkeeping ----

void Server::schedule_flush(Socket& s) {
  PerLoop& pl = local(s.loop());
  pl.flush_list.push_back(&s);
  if (!pl.turn_task_scheduled) {
    pl.turn_task_scheduled = true;
    pl.loop->defer([this, &pl] { run_end_of_turn(pl); });
  }
}

void Server::retire(Socket& s, std::string_view reason) {
  PerLoop& pl = local(s.loop());
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the table owned it
  if (Socket* owned = pl.sessions.erase(s.sid())) pl.dead.emplace_back(owned);
  auto& m = eio_metrics();
  m.active.add(-1);
  m.session_closed(s.transport());
  m.count_closed(reason);
  SB_LOG_DEBUG("engineio {}: closed ({})", s.sid(), reason);
  handler_.on_close(s, reason);
  if (!pl.turn_task_scheduled) {
    pl.turn_task_scheduled = true;
    pl.loop->defer([this, &pl] { run_end_of_turn(pl); });
  }
}

// Once per busy turn: answer parked GETs with everything the turn produced (one response per
// GET, however many packets), then free the sessions that ended.
void Server::run_end_of_turn(PerLoop& pl) {
  pl.turn_task_scheduled = false;
  while (!pl.flush_list.empty()) {
    std::vector<Socket*> list = std::move(pl.flush_list);
    pl.flush_list.clear();
    for (Socket* s : list)
      s->flush();
  }
  pl.dead.clear();
}

void Server::close_all(std::string_view reason) {
  if (loops_ == nullptr) return;
  for (int i = 0; i < loop_count_; ++i) {
    loop_at(i).post([this, i, reason = std::string(reason)] {
      std::vector<Socket*> all;
      local(loop_at(i)).sessions.for_each([&all](Socket& s) { all.push_back(&s); });
      for (Socket* s : all)
        s->terminate(reason);  // retired sockets stay allocated until the end of the turn
    });
  }
}

}  // namespace sb::engineio
