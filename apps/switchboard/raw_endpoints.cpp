#include "raw_endpoints.h"

namespace sb::app {

void EchoEndpoint::on_message(ws::Session& s, ws::MessageType type,
                              std::span<const uint8_t> payload) {
  s.send(type, payload);
}

ChatEndpoint::ChatEndpoint(net::LoopGroup& loops, const ws::DeflateOptions& deflate)
    : loops_(loops),
      deflate_(deflate),
      members_(new LoopMembers[static_cast<size_t>(loops.size())]) {}

void ChatEndpoint::on_open(ws::Session& s) {
  LoopMembers& m = members_[static_cast<size_t>(s.connection().loop().index())];
  s.user_tag = m.sessions.size();
  m.sessions.push_back(&s);
  m.count.store(static_cast<uint32_t>(m.sessions.size()), std::memory_order_relaxed);
  if (s.deflate_negotiated()) {
    m.deflate_count.store(m.deflate_count.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);  // one writer: this loop
  }
}

void ChatEndpoint::on_close(ws::Session& s, uint16_t /*code*/) {
  LoopMembers& m = members_[static_cast<size_t>(s.connection().loop().index())];
  // Swap-remove: O(1), and the moved session learns its new position.
  ws::Session* last = m.sessions.back();
  last->user_tag = s.user_tag;
  m.sessions[s.user_tag] = last;
  m.sessions.pop_back();
  m.count.store(static_cast<uint32_t>(m.sessions.size()), std::memory_order_relaxed);
  if (s.deflate_negotiated()) {
    m.deflate_count.store(m.deflate_count.load(std::memory_order_relaxed) - 1,
                          std::memory_order_relaxed);
  }
}

void ChatEndpoint::on_message(ws::Session& s, ws::MessageType type,
                              std::span<const uint8_t> payload) {
  // Compress once per broadcast, and only when some member can take the compressed form.
  ws::DeflateOptions deflate = deflate_;
  deflate.enabled = deflate.enabled && any_deflate_member();
  ws::BroadcastFrame frame = ws::BroadcastFrame::build(type, payload, deflate);
  const int self = s.connection().loop().index();
  for (int i = 0; i < loops_.size(); ++i) {
    if (i == self) continue;
    if (members_[static_cast<size_t>(i)].count.load(std::memory_order_relaxed) == 0) continue;
    loops_.loop(i).post([this, i, frame] { deliver(i, frame); });
  }
  deliver(self, frame);
}

bool ChatEndpoint::any_deflate_member() const {
  for (int i = 0; i < loops_.size(); ++i) {
    if (members_[static_cast<size_t>(i)].deflate_count.load(std::memory_order_relaxed) > 0) {
      return true;
    }
  }
  return false;
}

void ChatEndpoint::deliver(int loop_index, const ws::BroadcastFrame& frame) {
  const ws::LocalFrame local(frame);
  // send_frame only queues; a receiver that overflows is closed at the end of the turn, so the
  // list cannot change under this loop.
  for (ws::Session* member : members_[static_cast<size_t>(loop_index)].sessions) {
    member->send_frame(local);
  }
}

}  // namespace sb::app
