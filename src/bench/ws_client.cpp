#include "bench/ws_client.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <thread>

#include "bench/tcp_connect.h"
#include "common/base64.h"
#include "http/request.h"
#include "net/loop.h"
#include "ws/frame_writer.h"
#include "ws/handshake.h"

namespace sb::bench {
namespace {

constexpr size_t kMaxResponseHead = 16 << 10;

struct Xoshiro {
  uint64_t s[4];
  Xoshiro() {
    std::random_device rd;
    uint64_t seed =
        (uint64_t{rd()} << 32) ^ rd() ^ std::hash<std::thread::id>{}(std::this_thread::get_id());
    for (auto& w : s) {  // splitmix64 expansion of the seed
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

// True if the comma-separated header value contains `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (http::iequals(http::trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

struct DeflateReply {
  bool ok = false;
  uint8_t server_window_bits = 15;
  bool server_no_context_takeover = false;
};

// The server's Sec-WebSocket-Extensions answer to our offer "permessage-deflate;
// client_max_window_bits": only the parameters that shape what we must inflate matter here.
DeflateReply parse_deflate_reply(std::string_view value) {
  DeflateReply r;
  size_t semi = value.find(';');
  if (!http::iequals(http::trim_ows(value.substr(0, semi)), "permessage-deflate")) return r;
  r.ok = true;
  while (semi != std::string_view::npos) {
    value.remove_prefix(semi + 1);
    semi = value.find(';');
    std::string_view param = http::trim_ows(value.substr(0, semi));
    size_t eq = param.find('=');
    std::string_view name = http::trim_ows(param.substr(0, eq));
    if (http::iequals(name, "server_no_context_takeover")) {
      r.server_no_context_takeover = true;
    } else if (http::iequals(name, "server_max_window_bits") && eq != std::string_view::npos) {
      std::string_view v = http::trim_ows(param.substr(eq + 1));
      if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() >= 2 ? v.size() - 2 : 0);
      int bits = 0;
      for (char ch : v)
        bits = bits * 10 + (ch - '0');
      if (bits < 8 || bits > 15) r.ok = false;
      r.server_window_bits = static_cast<uint8_t>(std::max(bits, 9));  // zlib cannot do 8
    }
  }
  return r;
}

}  // namespace

uint64_t fast_random() {
  thread_local Xoshiro rng;
  return rng.next();
}

WsClient::WsClient(const WsClientOptions& options, ClientEvents& events, uint32_t id)
    : options_(options), events_(events), parser_(options.max_message_size), id_(id) {}

WsClient::~WsClient() = default;

Result<WsClient*> WsClient::connect(net::Loop& loop, const sockaddr_in& source,
                                    const sockaddr_in& target, const WsClientOptions& options,
                                    ClientEvents& events, uint32_t id) {
  auto handler = std::make_unique<WsClient>(options, events, id);
  WsClient* client = handler.get();
  auto c = open_connection(loop, source, target, std::move(handler));
  if (!c) return c.error();
  client->start(*c.value());
  return client;
}

void WsClient::start(net::Connection& c) {
  conn_ = &c;
  std::array<uint8_t, 16> nonce;
  uint64_t a = fast_random();
  uint64_t b = fast_random();
  std::memcpy(nonce.data(), &a, 8);
  std::memcpy(nonce.data() + 8, &b, 8);
  key_ = base64_encode(std::span<const uint8_t>(nonce));
  std::string req;
  req.reserve(256);
  req += "GET ";
  req += options_.path;
  req += " HTTP/1.1\r\nHost: ";
  req += options_.host_header;
  req += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  req += key_;
  req += "\r\nSec-WebSocket-Version: 13\r\n";
  if (options_.offer_deflate) {
    req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  }
  req += "\r\n";
  // Queued now; the loop sends it once the socket is connected (EAGAIN until then → EPOLLOUT).
  c.write(req);
  c.loop().timers().arm(c.timer(), options_.handshake_timeout_ms, [this] {
    if (conn_ != nullptr && (!open_ || (options_.upper_handshake && !upper_done_))) {
      fail_handshake(*conn_, "handshake timeout");
    }
  });
}

void WsClient::fail_handshake(net::Connection& c, std::string_view why) {
  fail_why_ = why;
  c.abort(why == "handshake timeout" ? net::CloseReason::kTimeout
                                     : net::CloseReason::kProtocolError);
}

size_t WsClient::on_handshake(net::Connection& c, std::span<const uint8_t> data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  const size_t end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (text.size() > kMaxResponseHead) fail_handshake(c, "response head too large");
    return 0;
  }
  std::string_view head = text.substr(0, end + 2);
  size_t eol = head.find("\r\n");
  std::string_view status = head.substr(0, eol);
  if (status.size() < 12 || status.substr(0, 5) != "HTTP/" || status.substr(9, 3) != "101") {
    fail_handshake(c, "status is not 101");
    return 0;
  }
  bool upgrade = false;
  bool connection = false;
  bool accept_ok = false;
  std::string_view extensions;
  const auto expected = ws::compute_accept(key_);
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = http::trim_ows(line.substr(0, colon));
    std::string_view value = http::trim_ows(line.substr(colon + 1));
    if (http::iequals(name, "Upgrade")) {
      upgrade = http::iequals(value, "websocket");
    } else if (http::iequals(name, "Connection")) {
      connection = has_token(value, "upgrade");
    } else if (http::iequals(name, "Sec-WebSocket-Accept")) {
      accept_ok = value == std::string_view(expected.data(), expected.size());
    } else if (http::iequals(name, "Sec-WebSocket-Extensions")) {
      extensions = value;
    }
  }
  if (!upgrade || !connection) {
    fail_handshake(c, "missing Upgrade/Connection headers");
    return 0;
  }
  if (!accept_ok) {
    fail_handshake(c, "wrong Sec-WebSocket-Accept");
    return 0;
  }
  if (!extensions.empty()) {
    DeflateReply d = parse_deflate_reply(extensions);
    if (!options_.offer_deflate || !d.ok) {
      fail_handshake(c, "extension not offered");
      return 0;
    }
    parser_.enable_deflate(d.server_window_bits, d.server_no_context_takeover);
  }
  if (!options_.upper_handshake) c.timer().cancel();
  open_ = true;
  events_.on_open(*this);
  return end + 4;
}

size_t WsClient::on_data(net::Connection& c, std::span<uint8_t> data) {
  size_t used = 0;
  if (!open_) {
    used = on_handshake(c, data);
    if (!open_ || !c.open()) return used;
  }
  ClientFeedResult r = parser_.feed(data.subspan(used), *this);
  if (!r.ok() && c.open()) close(r.close_code);
  return used + r.consumed;
}

void WsClient::handshake_done() {
  upper_done_ = true;
  if (conn_ != nullptr) conn_->timer().cancel();
}

void WsClient::send_frame(ws::Opcode op, std::span<const uint8_t> payload) {
  if (conn_ == nullptr || !conn_->open()) return;
  const uint64_t r = fast_random();
  ws::MaskKey key;
  std::memcpy(key.data(), &r, 4);
  const ws::FrameHeader h = ws::make_masked_header(op, payload.size(), key);
  std::span<uint8_t> out = conn_->reserve(h.size + payload.size());
  std::memcpy(out.data(), h.bytes.data(), h.size);
  if (!payload.empty()) {
    std::memcpy(out.data() + h.size, payload.data(), payload.size());
    ws::apply_mask(out.subspan(h.size, payload.size()), key, 0);
  }
  conn_->commit(h.size + payload.size());
}

void WsClient::send_message(std::span<const uint8_t> payload, bool binary) {
  if (!open_ || close_sent_) return;
  send_frame(binary ? ws::Opcode::kBinary : ws::Opcode::kText, payload);
}

void WsClient::close(uint16_t code) {
  if (conn_ == nullptr || !conn_->open()) return;
  if (open_ && !close_sent_) {
    close_sent_ = true;
    const std::array<uint8_t, 2> body{static_cast<uint8_t>(code >> 8),
                                      static_cast<uint8_t>(code & 0xff)};
    send_frame(ws::Opcode::kClose, body);
  }
  conn_->close(net::CloseReason::kLocal);
}

void WsClient::on_shutdown(net::Connection& c) {
  if (open_) {
    close(1000);
  } else {
    c.abort(net::CloseReason::kShutdown);
  }
}

void WsClient::on_close(net::Connection& /*c*/, net::CloseReason reason) {
  std::string_view why = fail_why_;
  if (why.empty()) {
    switch (reason) {
      case net::CloseReason::kPeerClosed:
        why = open_ ? "closed by the server" : "refused or reset";
        break;
      case net::CloseReason::kIoError:
        why = open_ ? "connection reset" : "connect failed";
        break;
      case net::CloseReason::kOutboundOverflow:
        why = "client outbound queue overflow";
        break;
      case net::CloseReason::kShutdown:
        why = "shutdown";
        break;
      case net::CloseReason::kLocal:
        why = "closed locally";
        break;
      default:
        why = net::close_reason_name(reason);
        break;
    }
  }
  conn_ = nullptr;
  events_.on_closed(*this, open_, why);
}

void WsClient::on_message(ws::MessageType type, std::span<const uint8_t> payload) {
  (void)type;
  events_.on_message(*this, payload);
}

void WsClient::on_ping(std::span<const uint8_t> payload) {
  send_frame(ws::Opcode::kPong, payload);
}

void WsClient::on_close(uint16_t code, std::string_view /*reason*/) {
  // Echo the server's close (RFC 6455 §5.5.1), then close our side.
  if (conn_ == nullptr || !conn_->open()) return;
  if (!close_sent_) {
    close_sent_ = true;
    const uint16_t echo = code == 1005 ? 1000 : code;
    const std::array<uint8_t, 2> body{static_cast<uint8_t>(echo >> 8),
                                      static_cast<uint8_t>(echo & 0xff)};
    send_frame(ws::Opcode::kClose, body);
  }
  fail_why_ = "server sent close";
  conn_->close(net::CloseReason::kPeerClosed);
}

}  // namespace sb::bench
