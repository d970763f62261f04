#pragma once
// The raw WebSocket endpoints every node serves: /raw/echo and /raw/chat (the founding document's
// naive single-server chat). They exercise the loop, the codec and serialize-once broadcast
// without any protocol above WebSocket.

#include <atomic>
#include <memory>
#include <vector>

#include "net/loop_group.h"
#include "ws/session.h"

namespace sb::app {

/// Sends every message back as received (same type).
class EchoEndpoint final : public ws::Endpoint {
 public:
  void on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) override;
};

/// Sends every message to every client of /raw/chat on this node, sender included. The frame is
/// built once; each loop with members gets the same bytes (one atomic reference per loop) and
/// queues them to its members without copying.
class ChatEndpoint final : public ws::Endpoint {
 public:
  ChatEndpoint(net::LoopGroup& loops, const ws::DeflateOptions& deflate);
  void on_open(ws::Session& s) override;
  void on_message(ws::Session& s, ws::MessageType type, std::span<const uint8_t> payload) override;
  void on_close(ws::Session& s, uint16_t code) override;

 private:
  // Touched only by its own loop's thread; `count` is read by other loops to skip empty ones.
  struct alignas(64) LoopMembers {
    std::vector<ws::Session*> sessions;
    std::atomic<uint32_t> count{0};
    std::atomic<uint32_t> deflate_count{0};  // members that negotiated permessage-deflate
  };
  void deliver(int loop_index, const ws::BroadcastFrame& frame);
  /// True when some member anywhere may take the compressed form (else skip compressing).
  bool any_deflate_member() const;

  net::LoopGroup& loops_;
  ws::DeflateOptions deflate_;
  std::unique_ptr<LoopMembers[]> members_;
};

}  // namespace sb::app
