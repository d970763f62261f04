#include "ws/session.h"

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "net/loop.h"
#include "ws/frame_writer.h"

namespace sb::ws {
namespace {

// The window every shared compressed frame is made with. A session whose client limited our
// window (server_max_window_bits < 15) cannot take it and gets the plain form instead.
constexpr uint8_t kSharedWindowBits = 15;

struct WsMetrics {
  metrics::Counter opened{"sb_ws_sessions_total", "WebSocket sessions opened"};
  metrics::Counter messages_in{"sb_ws_messages_received_total", "WebSocket messages received"};
  metrics::Counter failures{"sb_ws_protocol_errors_total", "WebSocket sessions failed by the peer"};
};
WsMetrics& ws_metrics() {
  static WsMetrics m;
  return m;
}

// One deflater per loop thread and window size, created on first use: with
// server_no_context_takeover it holds no state between messages, so every session of the loop
// can share it, and an idle session holds no zlib memory at all.
Deflater& loop_deflater(uint8_t window_bits, const DeflateOptions& o) {
  thread_local std::array<std::unique_ptr<Deflater>, 16> deflaters;
  auto& d = deflaters[window_bits & 15];
  if (!d) d = std::make_unique<Deflater>(window_bits, true, o.level, o.mem_level);
  return *d;
}

// Scratch for building one frame before it is copied into a connection's queue (per thread).
std::vector<uint8_t>& scratch() {
  thread_local std::vector<uint8_t> buf;
  buf.clear();
  return buf;
}

}  // namespace

BroadcastFrame BroadcastFrame::build(MessageType type, std::span<const uint8_t> message,
                                     const DeflateOptions& deflate) {
  BroadcastFrame f;
  const Opcode op = type == MessageType::kText ? Opcode::kText : Opcode::kBinary;
  FrameHeader h = make_header(op, message.size());
  net::Blob* plain = net::Blob::create(h.size + message.size());
  std::memcpy(plain->mutable_data(), h.bytes.data(), h.size);
  if (!message.empty()) std::memcpy(plain->mutable_data() + h.size, message.data(), message.size());
  plain->set_size(h.size + message.size());
  f.plain = net::BlobPtr(plain);
  if (deflate.enabled && message.size() >= deflate.compression_threshold) {
    auto& out = scratch();
    build_message_frame(out, type, message, &loop_deflater(kSharedWindowBits, deflate), 0);
    f.compressed = net::BlobPtr::copy_of({reinterpret_cast<const char*>(out.data()), out.size()});
  }
  return f;
}

LocalFrame::LocalFrame(const BroadcastFrame& f)
    : plain(f.plain),
      compressed(f.compressed ? net::SharedBuffer(f.compressed) : net::SharedBuffer()) {}

// Forwards the parser's events to the session (see session.h: Events).
class Session::Events final : public FrameVisitor {
 public:
  explicit Events(Session& s) : s_(s) {}
  void on_message(MessageType type, std::span<const uint8_t> payload) override {
    s_.frame_message(type, payload);
  }
  void on_ping(std::span<const uint8_t> payload) override { s_.frame_ping(payload); }
  void on_pong(std::span<const uint8_t> /*payload*/) override {}
  void on_close(uint16_t code, std::string_view reason) override { s_.frame_close(code, reason); }

 private:
  Session& s_;
};

Session::Session(net::Connection& conn, const SessionRoute& route,
                 std::optional<DeflateParams> deflate)
    : conn_(conn),
      route_(route),
      parser_(route.options.limits),
      deflate_(deflate.value_or(DeflateParams{false, false, 0, 0})) {
  if (deflate) parser_.enable_deflate(*deflate);
  ws_metrics().opened.inc();
}

Session::~Session() = default;

void Session::start() {
  notified_ = Notified::kOpen;
  endpoint().on_open(*this);
}

bool Session::takes_compressed() const {
  return deflate_.server_max_window_bits == kSharedWindowBits;
}

void Session::send(MessageType type, std::span<const uint8_t> message) {
  if (!close_.can_send_data() || !conn_.open()) return;
  const Opcode op = type == MessageType::kText ? Opcode::kText : Opcode::kBinary;
  if (deflate_negotiated() && message.size() >= options().deflate.compression_threshold) {
    auto& out = scratch();
    build_message_frame(out, type, message,
                        &loop_deflater(deflate_.server_max_window_bits, options().deflate), 0);
    conn_.write({reinterpret_cast<const char*>(out.data()), out.size()});
    return;
  }
  FrameHeader h = make_header(op, message.size());
  auto space = conn_.reserve(h.size + message.size());
  if (space.size() >= h.size + message.size()) {
    std::memcpy(space.data(), h.bytes.data(), h.size);
    if (!message.empty()) std::memcpy(space.data() + h.size, message.data(), message.size());
    conn_.commit(h.size + message.size());
  } else {
    conn_.write({reinterpret_cast<const char*>(h.bytes.data()), h.size});
    conn_.write({reinterpret_cast<const char*>(message.data()), message.size()});
  }
}

void Session::send_frame(const LocalFrame& frame) {
  if (!close_.can_send_data() || !conn_.open()) return;
  if (frame.compressed && takes_compressed()) {
    conn_.write(frame.compressed);
  } else {
    conn_.write(frame.plain);
  }
}

void Session::write_control(Opcode op, std::span<const uint8_t> payload) {
  std::array<uint8_t, 2 + kMaxControlPayload> buf;
  size_t n = op == Opcode::kPong ? write_pong(buf, payload) : write_ping(buf, payload);
  conn_.write({reinterpret_cast<const char*>(buf.data()), n});
}

void Session::close(uint16_t code, std::string_view reason) {
  if (!close_.can_send_data() || !conn_.open()) return;
  std::array<uint8_t, kMaxCloseFrameSize> buf;
  size_t n = write_close(std::span<uint8_t, kMaxCloseFrameSize>(buf), code, reason);
  conn_.write({reinterpret_cast<const char*>(buf.data()), n});
  close_.on_close_sent();
  close_code_ = code;
  // Wait for the peer's close frame, but not forever.
  conn_.loop().timers().arm(conn_.timer(), options().close_timeout_ms,
                            [this] { conn_.close(net::CloseReason::kTimeout); });
}

void Session::fail(uint16_t code, std::string_view reason) {
  // A protocol violation: say why in a close frame, then close without waiting for an answer
  // (RFC 6455 §7.1.7 "fail the WebSocket connection").
  ws_metrics().failures.inc();
  SB_LOG_DEBUG("ws session {} from {} failed: {} {}", conn_.id(), conn_.peer_ip(), code, reason);
  if (close_.can_send_data()) {
    std::array<uint8_t, kMaxCloseFrameSize> buf;
    size_t n = write_close(std::span<uint8_t, kMaxCloseFrameSize>(buf), code, reason);
    conn_.write({reinterpret_cast<const char*>(buf.data()), n});
    close_.on_close_sent();
  }
  close_code_ = code;
  conn_.close(net::CloseReason::kProtocolError);
}

size_t Session::on_data(net::Connection& /*c*/, std::span<uint8_t> data) {
  Events events(*this);
  FeedResult r = parser_.feed(data, events);
  if (!r.ok()) {
    fail(r.close_code, r.reason);
    return data.size();
  }
  return r.consumed;
}

void Session::frame_message(MessageType type, std::span<const uint8_t> payload) {
  if (!close_.can_send_data()) return;  // after our close frame, data is ignored (§5.5.1)
  ws_metrics().messages_in.inc();
  endpoint().on_message(*this, type, payload);
}

void Session::frame_ping(std::span<const uint8_t> payload) {
  if (close_.can_send_data()) write_control(Opcode::kPong, payload);
}

void Session::frame_close(uint16_t code, std::string_view /*reason*/) {
  if (close_.on_close_received()) {
    // Echo the peer's code (RFC 6455 §5.5.1); a close without a code is answered without one.
    std::array<uint8_t, kMaxCloseFrameSize> buf;
    size_t n = write_close(std::span<uint8_t, kMaxCloseFrameSize>(buf), code);
    conn_.write({reinterpret_cast<const char*>(buf.data()), n});
    close_.on_close_sent();
    close_code_ = code;
  }
  // Both close frames have passed: the server closes the TCP connection first (§7.1.1).
  conn_.close(net::CloseReason::kPeerClosed);
}

void Session::on_shutdown(net::Connection& /*c*/) {
  close(close_code::kGoingAway, "server shutting down");
}

void Session::on_close(net::Connection& /*c*/, net::CloseReason /*reason*/) {
  if (notified_ == Notified::kOpen) {
    notified_ = Notified::kClosed;
    endpoint().on_close(*this, close_code_);
  }
}

}  // namespace sb::ws
