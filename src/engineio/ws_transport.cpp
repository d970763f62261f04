#include "engineio/ws_transport.h"

#include <string>
#include <utility>

#include "engineio/server.h"
#include "net/loop.h"
#include "ws/close_code.h"

namespace sb::engineio {
namespace {

// `digit` + data for one text frame, built in a per-thread scratch string.
std::span<const uint8_t> text_frame_payload(PacketType type, std::string_view data) {
  thread_local std::string scratch;
  scratch.clear();
  scratch.push_back(packet_type_char(type));
  scratch.append(data);
  return {reinterpret_cast<const uint8_t*>(scratch.data()), scratch.size()};
}

// The socket's WebSocket on another loop: each frame is built here once, as cross-thread bytes,
// and posted to the WebSocket's loop.
class RemoteLink final : public WsLink {
 public:
  RemoteLink(WsBridge& bridge, const ws::DeflateOptions& deflate, int ws_loop, uint64_t key)
      : bridge_(bridge), deflate_(deflate), key_(key), ws_loop_(ws_loop) {}
  uint64_t key() const override { return key_; }
  void send_text(PacketType type, std::string_view data) override {
    bridge_.relay_send(ws_loop_, key(),
                       ws::BroadcastFrame::build(ws::MessageType::kText,
                                                 text_frame_payload(type, data), deflate_));
  }
  void send_binary(std::span<const uint8_t> data) override {
    bridge_.relay_send(ws_loop_, key(),
                       ws::BroadcastFrame::build(ws::MessageType::kBinary, data, deflate_));
  }
  void send_shared(const LocalPacket& p) override {
    ws::BroadcastFrame f;
    f.plain = p.frame.plain.blob();
    if (p.frame.compressed) f.compressed = p.frame.compressed.blob();
    bridge_.relay_send(ws_loop_, key(), f);
  }
  void close() override { bridge_.relay_close(ws_loop_, key()); }
  void release() override { delete this; }  // NOLINT(cppcoreguidelines-owning-memory)

 private:
  ~RemoteLink() = default;  // release() only
  WsBridge& bridge_;
  const ws::DeflateOptions& deflate_;
  uint64_t key_;
  int ws_loop_;
};

}  // namespace

bool is_error_close(uint16_t code) {
  return code == ws::close_code::kProtocolError || code == ws::close_code::kInvalidPayload ||
         code == ws::close_code::kPolicyViolation || code == ws::close_code::kMessageTooBig;
}

// ---- EioWebSocket ----

EioWebSocket::~EioWebSocket() {
  // Normally the socket let go at the close event; not when the loop is torn down first.
  detach_socket();
}

void EioWebSocket::detach_socket() {
  if (socket_ != nullptr) std::exchange(socket_, nullptr)->forget_link(this);
}

void EioWebSocket::send_text(PacketType type, std::string_view data) {
  send(ws::MessageType::kText, text_frame_payload(type, data));
}

void EioWebSocket::send_binary(std::span<const uint8_t> data) {
  send(ws::MessageType::kBinary, data);
}

bool EioWebSocket::writable() const {
  const net::Connection& c = connection();
  return c.open() && !c.above_high_watermark();
}

void EioWebSocket::close() {
  socket_ = nullptr;  // no event back to the socket
  ws::Session::close(ws::close_code::kNoStatus);
}

// ---- WsBridge ----

WsLinkPtr WsBridge::remote_link(int ws_loop, uint64_t key) {
  const ws::DeflateOptions& d = server_.ws_options_.deflate;
  return WsLinkPtr(new RemoteLink(*this, d, ws_loop, key));
}

void WsBridge::on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) {
  auto& w = static_cast<EioWebSocket&>(s);
  if (!w.relayed()) {
    if (Socket* sock = w.socket()) sock->on_ws_message(w.key(), type, payload);
    return;
  }
  auto& relayed = server_.local(s.connection().loop()).relayed;
  auto it = relayed.find(w.key());
  if (it == relayed.end()) return;
  const RelayedWs& r = it->second;
  // Relayed: the owner loop sees the message after everything posted before it.
  std::string copy(reinterpret_cast<const char*>(payload.data()), payload.size());
  Server& srv = server_;
  srv.loop_at(r.owner_loop)
      .post([&srv, owner = r.owner_loop, sid = std::string(r.sid_view()), key = w.key(), type,
             copy = std::move(copy)] {
        Socket* sock = srv.find(srv.loop_at(owner), sid);
        if (sock == nullptr) return;  // gone: its close already reached the WebSocket
        sock->on_ws_message(key, type,
                            {reinterpret_cast<const uint8_t*>(copy.data()), copy.size()});
      });
}

void WsBridge::on_close(ws::Session& s, uint16_t code) {
  auto& w = static_cast<EioWebSocket&>(s);
  const bool error = is_error_close(code);
  if (!w.relayed()) {
    if (Socket* sock = w.socket()) sock->on_ws_closed(w.key(), error);
    w.detach_socket();  // the socket dropped its link above; this makes sure of it
    return;
  }
  auto& relayed = server_.local(s.connection().loop()).relayed;
  auto it = relayed.find(w.key());
  if (it == relayed.end()) return;
  Server& srv = server_;
  srv.loop_at(it->second.owner_loop)
      .post([&srv, owner = it->second.owner_loop, sid = std::string(it->second.sid_view()),
             key = w.key(), error] {
        Socket* sock = srv.find(srv.loop_at(owner), sid);
        if (sock != nullptr) sock->on_ws_closed(key, error);
      });
  relayed.erase(it);
}

void WsBridge::relay_send(int ws_loop, uint64_t key, const ws::BroadcastFrame& frame) {
  Server& srv = server_;
  srv.loop_at(ws_loop).post([&srv, ws_loop, key, frame] {
    auto& relayed = srv.local(srv.loop_at(ws_loop)).relayed;
    auto it = relayed.find(key);
    if (it == relayed.end()) return;
    it->second.ws->send_frame(ws::LocalFrame(frame));
  });
}

void WsBridge::relay_close(int ws_loop, uint64_t key) {
  Server& srv = server_;
  srv.loop_at(ws_loop).post([&srv, ws_loop, key] {
    auto& relayed = srv.local(srv.loop_at(ws_loop)).relayed;
    auto it = relayed.find(key);
    if (it == relayed.end()) return;
    it->second.ws->ws::Session::close(ws::close_code::kNoStatus);
  });
}

}  // namespace sb::engineio
