#pragma once
// The WebSocket transport: the ws::Endpoint behind every Engine.IO WebSocket, and the links
// a Socket uses to write to one.
//
// A WebSocket is bound to its session through a WsBinding (the ws::Session's user_tag). When the
// session lives on the same loop, the binding points at it and frames go straight through. When
// the WebSocket was accepted by another loop than the session's (an upgrade whose request the
// kernel gave to another loop), the binding names the owner loop and sid: incoming messages are
// copied and posted to the owner, and the owner's writes come back as frames built once
// (ws::BroadcastFrame, cross-thread) and posted to the WebSocket's loop. Each post is looked up
// by key on arrival, so either side may have closed meanwhile.

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

/// One Engine.IO WebSocket, on the loop that accepted it.
struct WsBinding {
  ws::Session* session = nullptr;
  uint64_t key = 0;
  Socket* socket = nullptr;  // the session, when it lives on this loop (null once detached)
  int owner_loop = -1;       // else: the owner loop and the sid (relayed)
  // Inline, fixed length (decode_sid accepted it): not a 32-byte std::string on every binding.
  std::array<char, kSidLength> sid{};
  std::string_view sid_view() const { return {sid.data(), sid.size()}; }
  bool relayed() const { return owner_loop >= 0; }
};

class WsBridge final : public ws::Endpoint {
 public:
  explicit WsBridge(Server& server) : server_(server) {}

  void on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) override;
  void on_close(ws::Session& s, uint16_t code) override;

  /// A link from a socket to a WebSocket on the same loop.
  static std::unique_ptr<WsLink> local_link(WsBinding& b);
  /// A link from a socket on another loop to the relayed WebSocket `key` on loop `ws_loop`.
  std::unique_ptr<WsLink> remote_link(int ws_loop, uint64_t key);

  /// On the WebSocket's loop: send a frame built by the owner / close the WebSocket.
  void relay_send(int ws_loop, uint64_t key, const ws::BroadcastFrame& frame);
  void relay_close(int ws_loop, uint64_t key);

 private:
  Server& server_;
};

/// A WebSocket close code that means the peer broke the protocol (vs. a plain close).
bool is_error_close(uint16_t code);

}  // namespace sb::engineio
