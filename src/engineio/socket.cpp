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

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

Handler::~Handler() = default;

PollReply PollReply::error(ErrorCode code) {
  eio_metrics().count_error(code);
  return {static_cast<uint16_t>(error_http_status(code)),
          Kind::kError,
          error_body(code),
          {},
          false,
          {}};
}

Socket::Socket(Server& server, net::Loop& loop, std::string_view sid, Transport transport,
               HandshakeInfo handshake)
    : server_(server),
      handshake_(std::move(handshake)),
      loop_index_(static_cast<uint8_t>(loop.index())),
      transport_(transport) {
  // Every sid is made by generate_sid (fixed length); a shorter one would be padded.
  std::memset(sid_, '0', kSidLength);
  std::memcpy(sid_, sid.data(), std::min(sid.size(), kSidLength));
}

Socket::~Socket() = default;

net::Loop& Socket::loop() const {
  return server_.loop_at(loop_index_);
}

std::string Socket::open_packet() const {
  const Options& o = server_.options();
  OpenInfo info;
  info.sid = sid();
  info.upgrade_to_websocket = transport_ == Transport::kPolling && o.allow_upgrades && o.websocket;
  info.ping_interval_ms = o.ping_interval_ms;
  info.ping_timeout_ms = o.ping_timeout_ms;
  info.max_payload = o.max_http_buffer_size;
  std::string out;
  encode_open_packet(out, info);
  return out;
}

void Socket::start(WsLinkPtr websocket) {
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
  if (state_ != State::kOpen || upgrading()) return false;
  if (ws_) return ws_->writable();
  return get_parked();
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
  Polling& p = polling();
  p.queue.push_back(std::move(q));
  p.queued_bytes += bytes + 1;  // + the record separator
  if (p.queued_bytes > server_.options().max_buffered_bytes) {
    // A client that stopped polling while we keep producing: drop it rather than grow.
    eio_metrics().oversized.inc();
    SB_LOG_DEBUG("engineio {}: polling buffer over {} bytes", sid(),
                 server_.options().max_buffered_bytes);
    finish("transport error", PacketType::kClose);
    return;
  }
  if (p.get) schedule_flush();
}

void Socket::close() {
  if (state_ != State::kOpen) return;
  if (ws_) {
    finish("forced close", PacketType::kClose);
    return;
  }
  if (upgrading()) abort_probe();
  if (get_parked()) {
    // Deliver what is buffered with the close packet now.
    reply_get(take_payload("1"));
    finish("forced close", PacketType::kClose);
    return;
  }
  // Wait for the next GET to carry the close packet, but not forever.
  state_ = State::kClosing;
  awaiting_pong_ = false;
  server_.local(loop()).closing->push(*this);
}

// ---- polling ----

std::optional<PollReply> Socket::on_get(const PollWaiter& w) {
  if (get_parked()) {
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
  if (poll_ && !poll_->queue.empty()) return payload_reply(w, take_payload());
  if (probed_) {
    // Upgrading: release the client's poll at once so it can pause polling and send `5`.
    return payload_reply(w, "6");
  }
  polling().get = w;
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
  if (!get_parked() || poll_->get->loop != loop || poll_->get->id != id) return;
  poll_->get.reset();
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
  if (state_ == State::kClosed || !get_parked() || poll_->queue.empty()) return;
  reply_get(take_payload());
}

std::string Socket::take_payload(std::string_view tail) {
  if (!poll_) return std::string(tail);  // nothing queued: the tail alone
  const std::vector<Queued>& queue = poll_->queue;
  size_t size = tail.empty() ? 0 : tail.size() + 1;
  for (const Queued& q : queue) {
    if (q.shared) {
      size += q.shared->polling.size() + 1;
    } else {
      size += 1 + (q.binary ? base64_encoded_size(q.data.size()) : q.data.size()) + 1;
    }
  }
  std::string out;
  out.resize(size);
  char* w = out.data();
  for (const Queued& q : queue) {
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
  poll_->queue.clear();
  poll_->queued_bytes = 0;
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
  const PollWaiter w = *poll_->get;  // callers checked get_parked()
  poll_->get.reset();
  server_.deliver(loop_index_, w, payload_reply(w, std::move(body)));
}

// ---- packets ----

void Socket::on_packet(const Packet& p) {
  if (state_ != State::kOpen) return;
  if (awaiting_pong_ && !pong_refreshed_ && p.type != PacketType::kPong) {
    // engine.io 6.6: traffic while a pong is due extends the deadline once.
    pong_refreshed_ = true;
    server_.local(loop()).pong->push(*this);
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
  server_.local(loop()).ping->push(*this);
}

void Socket::fire_heartbeat(HeartbeatNode& n) {
  static_cast<Socket&>(n).on_heartbeat_timer();
}

void Socket::fire_close_timeout(HeartbeatNode& n) {
  static_cast<Socket&>(n).finish("forced close", PacketType::kClose);
}

void Socket::on_heartbeat_timer() {
  if (state_ != State::kOpen) return;
  if (awaiting_pong_) {
    finish("ping timeout", PacketType::kClose);
    return;
  }
  awaiting_pong_ = true;
  pong_refreshed_ = false;
  server_.local(loop()).pong->push(*this);
  send_packet(PacketType::kPing, {});
}

// ---- WebSocket and upgrade ----

void Socket::forget_link(const WsLink* link) {
  if (ws_.get() == link) (void)ws_.release();
  if (poll_ && poll_->probe.get() == link) (void)poll_->probe.release();
}

bool Socket::attach_probe(WsLinkPtr link) {
  const Options& o = server_.options();
  if (state_ != State::kOpen || ws_ || upgrading() || upgraded_ || !o.allow_upgrades) return false;
  Polling& pl = polling();
  pl.probe = std::move(link);
  probed_ = false;
  if (!pl.upgrade_timer) pl.upgrade_timer = std::make_unique<net::Timer>();
  loop().timers().arm(*pl.upgrade_timer, o.upgrade_timeout_ms, [this] {
    SB_LOG_DEBUG("engineio {}: upgrade not completed in time", sid());
    abort_probe();
  });
  return true;
}

void Socket::on_ws_message(uint64_t key, ws::MessageType type, std::span<const uint8_t> payload) {
  if (state_ == State::kClosed) return;
  if (upgrading() && poll_->probe->key() == key) {
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
    poll_->probe->send_text(PacketType::kPong, "probe");
    probed_ = true;
    // A GET parked now would hold the client's polling loop: release it (see on_get).
    if (get_parked()) reply_get(poll_->queue.empty() ? std::string("6") : take_payload());
    return;
  }
  if (p.type == PacketType::kUpgrade) {
    complete_upgrade();
    return;
  }
  abort_probe();
}

void Socket::complete_upgrade() {
  // Not in its own callback: a WebSocket message brought us here (upgrading(): poll_ is set).
  poll_->upgrade_timer.reset();
  if (get_parked()) reply_get("6");  // discard the polling transport
  ws_ = std::move(poll_->probe);     // upgrading(): poll_ is set
  probed_ = false;
  transport_ = Transport::kWebSocket;
  upgraded_ = true;
  eio_metrics().upgrades.inc();
  eio_metrics().moved_to_websocket();
  // What polling had buffered leaves on the WebSocket, in order.
  std::vector<Queued> pending;
  if (poll_) pending = std::move(poll_->queue);
  poll_.reset();  // polling is over for this session
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
  probed_ = false;
  if (!poll_) return;
  if (poll_->upgrade_timer) poll_->upgrade_timer->cancel();
  if (poll_->probe) {
    WsLinkPtr p = std::move(poll_->probe);
    p->close();
  }
}

void Socket::on_ws_closed(uint64_t key, bool error) {
  if (upgrading() && poll_->probe->key() == key) {
    poll_->probe.reset();
    probed_ = false;
    if (poll_->upgrade_timer) poll_->upgrade_timer->cancel();
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
  HeartbeatNode::cancel();
  if (poll_ && poll_->upgrade_timer) poll_->upgrade_timer->cancel();
  if (upgrading()) {
    WsLinkPtr p = std::move(poll_->probe);
    p->close();
  }
  if (ws_) {
    WsLinkPtr w = std::move(ws_);
    w->close();
  }
  if (get_parked()) {
    reply_get(std::string(1, packet_type_char(get_answer)));
  }
  poll_.reset();
  server_.retire(*this, reason);
}

}  // namespace sb::engineio
