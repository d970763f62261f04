#pragma once
// The WebSocket transport: the ws::Endpoint behind every Engine.IO WebSocket, and the links
// a Socket uses to write to one.
//
// An Engine.IO WebSocket is one object (EioWebSocket): the ws::Session, its binding to the
// Engine.IO session, and the socket's link to it, in one pooled block owned by the connection.
// When the session lives on the same loop, the socket holds the WebSocket itself as its link
// and frames go straight through. When the WebSocket was accepted by another loop than the
// session's (an upgrade whose request the kernel gave to another loop), it is relayed: the
// accepting loop's table names the owner loop and sid, incoming messages are copied and posted
// to the owner, and the owner's writes come back as frames built once (ws::BroadcastFrame,
// cross-thread) and posted to the WebSocket's loop. Each post is looked up by key on arrival,
// so either side may have closed meanwhile.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engineio/sid.h"
#include "engineio/socket.h"
#include "ws/session.h"

namespace sb::engineio {

class Server;

/// One Engine.IO WebSocket, on the loop that accepted it. Its key is its connection's id
/// (unique in the process).
class EioWebSocket final : public ws::Session, public WsLink {
 public:
  using ws::Session::Session;
  ~EioWebSocket() override;

  /// The socket's link to this WebSocket (same loop): events go to `s` from now on.
  WsLinkPtr link_to(Socket& s) {
    socket_ = &s;
    return WsLinkPtr(this);
  }
  /// The session lives on another loop (see PerLoop::relayed).
  void mark_relayed() { user_tag = 1; }
  bool relayed() const { return user_tag != 0; }
  Socket* socket() const { return socket_; }
  /// Lets go of the socket (both ways): it will not hear from this WebSocket again.
  void detach_socket();

  // WsLink
  uint64_t key() const override { return connection().id(); }
  void send_text(PacketType type, std::string_view data) override;
  void send_binary(std::span<const uint8_t> data) override;
  void send_shared(const LocalPacket& p) override { send_frame(p.frame); }
  bool writable() const override;
  void close() override;
  void release() override { socket_ = nullptr; }

 private:
  Socket* socket_ = nullptr;  // the session, when it lives on this loop (null once detached)
};

/// A relayed WebSocket's owner, in the accepting loop's table.
struct RelayedWs {
  EioWebSocket* ws = nullptr;
  int owner_loop = -1;
  // Inline, fixed length (decode_sid accepted it): not a 32-byte std::string.
  std::array<char, kSidLength> sid{};
  std::string_view sid_view() const { return {sid.data(), sid.size()}; }
};

class WsBridge final : public ws::Endpoint {
 public:
  explicit WsBridge(Server& server) : server_(server) {}

  void on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) override;
  void on_close(ws::Session& s, uint16_t code) override;

  /// A link from a socket on another loop to the relayed WebSocket `key` on loop `ws_loop`.
  WsLinkPtr remote_link(int ws_loop, uint64_t key);

  /// On the WebSocket's loop: send a frame built by the owner / close the WebSocket.
  void relay_send(int ws_loop, uint64_t key, const ws::BroadcastFrame& frame);
  void relay_close(int ws_loop, uint64_t key);

 private:
  Server& server_;
};

/// A WebSocket close code that means the peer broke the protocol (vs. a plain close).
bool is_error_close(uint16_t code);

}  // namespace sb::engineio
