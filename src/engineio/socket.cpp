#include "engineio/socket.h"

#include <algorithm>
#include <cstring>

#include "common/base64.h"
#include "common/log.h"
#include "engineio/eio_metrics.h"
#include "engineio/http_compress.h"
#include "engineio/server.h"
#include "net/loop.h"

namespace sb::engineio {
namespace {

// The wheel fires a timer up to one tick after its deadline. Heartbeat deadlines are armed one
// tick short instead, so a ping and a ping timeout happen within [d - tick, d], never after:
// clients and conformance suites measure "pingInterval + pingTimeout" from their side, with no
// margin beyond a round trip.
uint64_t heartbeat_delay(uint32_t ms) {
  return ms > net::TimerWheel::kTickMs ? ms - net::TimerWheel::kTickMs : ms;
}

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

Handler::~Handler() = default;

std::optional<std::string_view> HandshakeInfo::query_param(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> HandshakeInfo::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

PollReply PollReply::error(ErrorCode code) {
  eio_metrics().count_error(code);
  return {static_cast<uint16_t>(error_http_status(code)),
          Kind::kError,
          error_body(code),
          {},
          false,
          {}};
}

Socket::Socket(Server& server, net::Loop& loop, std::string sid, Transport transport,
               HandshakeInfo handshake)
    : server_(server),
      loop_(loop),
      sid_(std::move(sid)),
      handshake_(std::move(handshake)),
      transport_(transport) {}

Socket::~Socket() = default;

std::string Socket::open_packet() const {
  const Options& o = server_.options();
  OpenInfo info;
  info.sid = sid_;
  info.upgrade_to_websocket = transport_ == Transport::kPolling && o.allow_upgrades && o.websocket;
  info.ping_interval_ms = o.ping_interval_ms;
  info.ping_timeout_ms = o.ping_timeout_ms;
  info.max_payload = o.max_http_buffer_size;
  std::string out;
  encode_open_packet(out, info);
  return out;
}

void Socket::start(std::unique_ptr<WsLink> websocket) {
  if (websocket) {
    ws_ = std::move(websocket);
    const std::string open = open_packet();
    ws_->send_text(PacketType::kOpen, std::string_view(open).substr(1));
  }
  schedule_ping();
}

// ---- application API ----

bool Socket::writable() const {
  // While a probe is open the transport is about to change: Node's polling transport is not
  // writable then either (its GETs are answered with noops), and a volatile packet is exactly
  // what may be lost in the switch.
  if (state_ != State::kOpen || probe_) return false;
  if (ws_) return ws_->writable();
  return get_.has_value();
}

void Socket::send_text(std::string_view text) {
  send_packet(PacketType::kMessage, text);
}

void Socket::send_binary(std::span<const uint8_t> data) {
  if (state_ != State::kOpen) return;
  if (ws_) {
    ws_->send_binary(data);
    return;
  }
  Queued q;
  q.binary = true;
  q.data.assign(reinterpret_cast<const char*>(data.data()), data.size());
  enqueue(std::move(q), 1 + base64_encoded_size(data.size()));
}

void Socket::send_shared(const LocalPacket& p) {
  if (state_ != State::kOpen) return;
  if (ws_) {
    ws_->send_shared(p);
    return;
  }
  Queued q;
  q.binary = p.binary;
  q.shared.emplace(p);
  enqueue(std::move(q), p.polling.size());
}

void Socket::send_packet(PacketType type, std::string_view data) {
  if (state_ != State::kOpen) return;
  if (ws_) {
    ws_->send_text(type, data);
    return;
  }
  Queued q;
  q.type = type;
  q.data.assign(data);
  enqueue(std::move(q), 1 + data.size());
}

void Socket::enqueue(Queued q, size_t bytes) {
  queue_.push_back(std::move(q));
  queued_bytes_ += bytes + 1;  // + the record separator
  if (queued_bytes_ > server_.options().max_buffered_bytes) {
    // A client that stopped polling while we keep producing: drop it rather than grow.
    eio_metrics().oversized.inc();
    SB_LOG_DEBUG("engineio {}: polling buffer over {} bytes", sid_,
                 server_.options().max_buffered_bytes);
    finish("transport error", PacketType::kClose);
    return;
  }
  if (get_) schedule_flush();
}

void Socket::close() {
  if (state_ != State::kOpen) return;
  if (ws_) {
    finish("forced close", PacketType::kClose);
    return;
  }
  if (probe_) abort_probe();
  if (get_) {
    // Deliver what is buffered with the close packet now.
    reply_get(take_payload("1"));
    finish("forced close", PacketType::kClose);
    return;
  }
  // Wait for the next GET to carry the close packet, but not forever.
  state_ = State::kClosing;
  awaiting_pong_ = false;
  loop_.timers().arm(heartbeat_, server_.options().close_timeout_ms,
                     [this] { finish("forced close", PacketType::kClose); });
}

// ---- polling ----

std::optional<PollReply> Socket::on_get(const PollWaiter& w) {
  if (get_) {
    // Two GETs at once: Node refuses the new one (400) and closes the session; the pending one
    // gets the close packet.
    finish("transport error", PacketType::kClose);
    return PollReply::empty(400);
  }
  if (state_ == State::kClosing) {
    // The deferred close: what is buffered (or a noop), then the close packet.
    std::string body = take_payload("1");
    if (body.size() == 1) {
      body =
          "6\x1e"
          "1";
    }
    PollReply r = payload_reply(w, std::move(body));
    finish("forced close", PacketType::kClose);
    return r;
  }
  if (!queue_.empty()) return payload_reply(w, take_payload());
  if (probed_) {
    // Upgrading: release the client's poll at once so it can pause polling and send `5`.
    return payload_reply(w, "6");
  }
  get_ = w;
  return std::nullopt;
}

PollReply Socket::on_post(std::string_view body, bool octet_stream) {
  if (octet_stream) {
    // v4 polling is text only.
    finish("transport error", PacketType::kClose);
    return PollReply::empty(400);
  }
  PayloadDecoder decoder(body, server_.options().max_payload_packets);
  Packet p;
  for (;;) {
    Result<bool> more = decoder.next(p);
    if (!more) {
      if (more.error().code == Errc::kTooLarge) {
        eio_metrics().oversized.inc();
        finish("transport error", PacketType::kClose);
        return PollReply::empty(413);
      }
      finish("parse error", PacketType::kClose);
      return PollReply::error(ErrorCode::kBadRequest);
    }
    if (!*more || state_ == State::kClosed) break;
    if (p.type == PacketType::kClose) {
      // The client closes: a parked GET is released with a noop.
      finish("transport close", PacketType::kNoop);
      break;
    }
    on_packet(p);
  }
  return PollReply::ok();
}

void Socket::on_get_abandoned(int loop, uint64_t id) {
  if (!get_ || get_->loop != loop || get_->id != id) return;
  get_.reset();
  // Node: "poll connection closed prematurely".
  finish("transport error", PacketType::kClose);
}

void Socket::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  server_.schedule_flush(*this);
}

void Socket::flush() {
  flush_scheduled_ = false;
  if (state_ == State::kClosed || !get_ || queue_.empty()) return;
  reply_get(take_payload());
}

std::string Socket::take_payload(std::string_view tail) {
  size_t size = tail.empty() ? 0 : tail.size() + 1;
  for (const Queued& q : queue_) {
    if (q.shared) {
      size += q.shared->polling.size() + 1;
    } else {
      size += 1 + (q.binary ? base64_encoded_size(q.data.size()) : q.data.size()) + 1;
    }
  }
  std::string out;
  out.resize(size);
  char* w = out.data();
  for (const Queued& q : queue_) {
    if (w != out.data()) *w++ = kRecordSeparator;
    if (q.shared) {
      const std::string_view v = q.shared->polling.view();
      std::memcpy(w, v.data(), v.size());
      w += v.size();
    } else if (q.binary) {
      *w++ = 'b';
      w += base64_encode_to({reinterpret_cast<const uint8_t*>(q.data.data()), q.data.size()}, w);
    } else {
      *w++ = packet_type_char(q.type);
      if (!q.data.empty()) {
        // NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes, not a C string
        std::memcpy(w, q.data.data(), q.data.size());
      }
      w += q.data.size();
    }
  }
  if (!tail.empty()) {
    if (w != out.data()) *w++ = kRecordSeparator;
    std::memcpy(w, tail.data(), tail.size());
    w += tail.size();
  }
  out.resize(static_cast<size_t>(w - out.data()));
  queue_.clear();
  queued_bytes_ = 0;
  return out;
}

PollReply Socket::payload_reply(const PollWaiter& w, std::string body) const {
  PollReply r;
  r.xss_header = w.xss_header;
  const Options& o = server_.options();
  if (o.http_compression && w.encoding != ContentEncoding::kIdentity &&
      body.size() >= o.compression_threshold) {
    std::string z;
    if (compress_body(body, w.encoding, z)) {
      r.encoding = w.encoding;
      r.body = std::move(z);
      return r;
    }
  }
  r.body = std::move(body);
  return r;
}

void Socket::reply_get(std::string body) {
  const PollWaiter w = *get_;
  get_.reset();
  server_.deliver(loop_.index(), w, payload_reply(w, std::move(body)));
}

// ---- packets ----

void Socket::on_packet(const Packet& p) {
  if (state_ != State::kOpen) return;
  if (awaiting_pong_ && !pong_refreshed_ && p.type != PacketType::kPong) {
    // engine.io 6.6: traffic while a pong is due extends the deadline once.
    pong_refreshed_ = true;
    loop_.timers().arm(heartbeat_, heartbeat_delay(server_.options().ping_timeout_ms),
                       [this] { on_heartbeat_timer(); });
  }
  switch (p.type) {
    case PacketType::kPing:
      // v4: only the server pings ("invalid heartbeat direction").
      finish("transport error", PacketType::kClose);
      return;
    case PacketType::kPong:
      awaiting_pong_ = false;
      schedule_ping();
      return;
    case PacketType::kMessage:
      if (p.binary) {
        server_.handler().on_binary(*this, p.bytes);
      } else {
        server_.handler().on_message(*this, p.data);
      }
      return;
    case PacketType::kClose:
      finish("transport close", PacketType::kNoop);
      return;
    default:
      return;  // open, upgrade, noop: ignored, as in Node
  }
}

// ---- heartbeat ----

void Socket::schedule_ping() {
  loop_.timers().arm(heartbeat_, heartbeat_delay(server_.options().ping_interval_ms),
                     [this] { on_heartbeat_timer(); });
}

void Socket::on_heartbeat_timer() {
  if (state_ != State::kOpen) return;
  if (awaiting_pong_) {
    finish("ping timeout", PacketType::kClose);
    return;
  }
  awaiting_pong_ = true;
  pong_refreshed_ = false;
  loop_.timers().arm(heartbeat_, heartbeat_delay(server_.options().ping_timeout_ms),
                     [this] { on_heartbeat_timer(); });
  send_packet(PacketType::kPing, {});
}

// ---- WebSocket and upgrade ----

bool Socket::attach_probe(std::unique_ptr<WsLink> link) {
  const Options& o = server_.options();
  if (state_ != State::kOpen || ws_ || probe_ || upgraded_ || !o.allow_upgrades) return false;
  probe_ = std::move(link);
  probed_ = false;
  if (!upgrade_timer_) upgrade_timer_ = std::make_unique<net::Timer>();
  loop_.timers().arm(*upgrade_timer_, o.upgrade_timeout_ms, [this] {
    SB_LOG_DEBUG("engineio {}: upgrade not completed in time", sid_);
    abort_probe();
  });
  return true;
}

void Socket::on_ws_message(uint64_t key, ws::MessageType type, std::span<const uint8_t> payload) {
  if (state_ == State::kClosed) return;
  if (probe_ && probe_->key() == key) {
    if (type != ws::MessageType::kText) {
      abort_probe();
      return;
    }
    Result<Packet> p = decode_text_packet(as_text(payload));
    if (!p) {
      abort_probe();
      return;
    }
    on_probe_packet(*p);
    return;
  }
  if (!ws_ || ws_->key() != key) return;
  if (type == ws::MessageType::kBinary) {
    on_packet(decode_binary_packet(payload));
    return;
  }
  Result<Packet> p = decode_text_packet(as_text(payload));
  if (!p) {
    finish("parse error", PacketType::kClose);
    return;
  }
  on_packet(*p);
}

void Socket::on_probe_packet(const Packet& p) {
  if (p.type == PacketType::kPing && p.data == "probe" && !probed_) {
    probe_->send_text(PacketType::kPong, "probe");
    probed_ = true;
    // A GET parked now would hold the client's polling loop: release it (see on_get).
    if (get_) reply_get(queue_.empty() ? std::string("6") : take_payload());
    return;
  }
  if (p.type == PacketType::kUpgrade) {
    complete_upgrade();
    return;
  }
  abort_probe();
}

void Socket::complete_upgrade() {
  upgrade_timer_.reset();    // not in its own callback: a WebSocket message brought us here
  if (get_) reply_get("6");  // discard the polling transport
  ws_ = std::move(probe_);
  probed_ = false;
  transport_ = Transport::kWebSocket;
  upgraded_ = true;
  eio_metrics().upgrades.inc();
  eio_metrics().moved_to_websocket();
  // What polling had buffered leaves on the WebSocket, in order.
  std::vector<Queued> pending = std::move(queue_);
  queue_.clear();
  queued_bytes_ = 0;
  for (const Queued& q : pending) {
    if (q.shared) {
      ws_->send_shared(*q.shared);
    } else if (q.binary) {
      ws_->send_binary({reinterpret_cast<const uint8_t*>(q.data.data()), q.data.size()});
    } else {
      ws_->send_text(q.type, q.data);
    }
  }
  if (state_ == State::kClosing) finish("forced close", PacketType::kClose);
}

void Socket::abort_probe() {
  if (upgrade_timer_) upgrade_timer_->cancel();
  probed_ = false;
  if (probe_) {
    std::unique_ptr<WsLink> p = std::move(probe_);
    p->close();
  }
}

void Socket::on_ws_closed(uint64_t key, bool error) {
  if (probe_ && probe_->key() == key) {
    probe_.reset();
    probed_ = false;
    if (upgrade_timer_) upgrade_timer_->cancel();
    return;
  }
  if (ws_ && ws_->key() == key) {
    ws_.reset();  // gone: nothing to close
    finish(error ? "transport error" : "transport close", PacketType::kClose);
  }
}

// ---- end ----

void Socket::finish(std::string_view reason, PacketType get_answer) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  heartbeat_.cancel();
  if (upgrade_timer_) upgrade_timer_->cancel();
  if (probe_) {
    std::unique_ptr<WsLink> p = std::move(probe_);
    p->close();
  }
  if (ws_) {
    std::unique_ptr<WsLink> w = std::move(ws_);
    w->close();
  }
  if (get_) {
    reply_get(std::string(1, packet_type_char(get_answer)));
  }
  queue_.clear();
  queued_bytes_ = 0;
  server_.retire(*this, reason);
}

}  // namespace sb::engineio
