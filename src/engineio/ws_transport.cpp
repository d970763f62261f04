#include "engineio/ws_transport.h"

#include <string>

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

// The socket's WebSocket on the same loop: frames go straight to the ws::Session.
class LocalLink final : public WsLink {
 public:
  explicit LocalLink(WsBinding& b) : WsLink(b.key), b_(b) {}
  void send_text(PacketType type, std::string_view data) override {
    b_.session->send(ws::MessageType::kText, text_frame_payload(type, data));
  }
  void send_binary(std::span<const uint8_t> data) override {
    b_.session->send(ws::MessageType::kBinary, data);
  }
  void send_shared(const LocalPacket& p) override { b_.session->send_frame(p.frame); }
  bool writable() const override {
    const net::Connection& c = b_.session->connection();
    return c.open() && !c.above_high_watermark();
  }
  void close() override {
    b_.socket = nullptr;  // no event back to the socket
    b_.session->close(ws::close_code::kNoStatus);
  }

 private:
  WsBinding& b_;  // lives until the WebSocket's on_close, which drops this link first
};

// The socket's WebSocket on another loop: each frame is built here once, as cross-thread bytes,
// and posted to the WebSocket's loop.
class RemoteLink final : public WsLink {
 public:
  RemoteLink(WsBridge& bridge, const ws::DeflateOptions& deflate, int ws_loop, uint64_t key)
      : WsLink(key), bridge_(bridge), deflate_(deflate), ws_loop_(ws_loop) {}
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

 private:
  WsBridge& bridge_;
  const ws::DeflateOptions& deflate_;
  int ws_loop_;
};

WsBinding* binding_of(ws::Session& s) {
  return static_cast<WsBinding*>(s.user_ptr);
}

}  // namespace

bool is_error_close(uint16_t code) {
  return code == ws::close_code::kProtocolError || code == ws::close_code::kInvalidPayload ||
         code == ws::close_code::kPolicyViolation || code == ws::close_code::kMessageTooBig;
}

std::unique_ptr<WsLink> WsBridge::local_link(WsBinding& b) {
  return std::make_unique<LocalLink>(b);
}

std::unique_ptr<WsLink> WsBridge::remote_link(int ws_loop, uint64_t key) {
  const ws::DeflateOptions& d = server_.ws_options_.deflate;
  return std::make_unique<RemoteLink>(*this, d, ws_loop, key);
}

void WsBridge::on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) {
  WsBinding* b = binding_of(s);
  if (b == nullptr) return;
  if (!b->relayed()) {
    if (b->socket != nullptr) b->socket->on_ws_message(b->key, type, payload);
    return;
  }
  // Relayed: the owner loop sees the message after everything posted before it.
  std::string copy(reinterpret_cast<const char*>(payload.data()), payload.size());
  Server& srv = server_;
  srv.loop_at(b->owner_loop)
      .post([&srv, owner = b->owner_loop, sid = std::string(b->sid_view()), key = b->key, type,
             copy = std::move(copy)] {
        Socket* sock = srv.find(srv.loop_at(owner), sid);
        if (sock == nullptr) return;  // gone: its close already reached the WebSocket
        sock->on_ws_message(key, type,
                            {reinterpret_cast<const uint8_t*>(copy.data()), copy.size()});
      });
}

void WsBridge::on_close(ws::Session& s, uint16_t code) {
  WsBinding* b = binding_of(s);
  if (b == nullptr) return;
  s.user_ptr = nullptr;
  const bool error = is_error_close(code);
  if (!b->relayed()) {
    Socket* sock = b->socket;
    b->socket = nullptr;
    if (sock != nullptr) sock->on_ws_closed(b->key, error);
  } else {
    Server& srv = server_;
    srv.loop_at(b->owner_loop)
        .post([&srv, owner = b->owner_loop, sid = std::string(b->sid_view()), key = b->key, error] {
          Socket* sock = srv.find(srv.loop_at(owner), sid);
          if (sock != nullptr) sock->on_ws_closed(key, error);
        });
  }
  server_.local(s.connection().loop()).bindings.erase(b->key);  // frees b
}

void WsBridge::relay_send(int ws_loop, uint64_t key, const ws::BroadcastFrame& frame) {
  Server& srv = server_;
  srv.loop_at(ws_loop).post([&srv, ws_loop, key, frame] {
    auto& bindings = srv.local(srv.loop_at(ws_loop)).bindings;
    auto it = bindings.find(key);
    if (it == bindings.end()) return;
    it->second->session->send_frame(ws::LocalFrame(frame));
  });
}

void WsBridge::relay_close(int ws_loop, uint64_t key) {
  Server& srv = server_;
  srv.loop_at(ws_loop).post([&srv, ws_loop, key] {
    auto& bindings = srv.local(srv.loop_at(ws_loop)).bindings;
    auto it = bindings.find(key);
    if (it == bindings.end()) return;
    it->second->session->close(ws::close_code::kNoStatus);
  });
}

}  // namespace sb::engineio
