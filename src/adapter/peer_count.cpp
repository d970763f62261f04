#include "adapter/peer_count.h"

#include <algorithm>
#include <chrono>

#include "socketio/namespace.h"
#include "socketio/runtime.h"
#include "socketio/server.h"

namespace sb::adapter {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PeerCount::PeerCount(RedisBus& bus, socketio::Namespace& nsp, std::string channel, bool sharded)
    : bus_(bus), nsp_(nsp), channel_(std::move(channel)), sharded_(sharded) {}

void PeerCount::ask(UniqueFunction<void(std::optional<size_t>)> cb) {
  bus_.numsub(channel_, std::move(cb), sharded_);
}

// "Alone" is dated from when the count was *sent*: a server that subscribed after that moment
// is not in it, and a Switchboard server reports ready only R after it subscribed, so no peer's
// stale "alone" outlives the moment the new server can have clients.
void PeerCount::refresh() {
  const uint32_t period = std::max<uint32_t>(bus_.options().server_count_refresh_ms, 20);
  const int64_t sent = steady_ms();
  ask([this, sent, period](std::optional<size_t> n) {
    if (!n) {
      saw_peer();
      return;
    }
    server_count_.store(std::max<size_t>(*n, 1), std::memory_order_relaxed);
    alone_until_ms_.store(*n <= 1 ? sent + period : -1, std::memory_order_release);
  });
  // Asked twice per validity period, so a still-alone node never lapses into publishing.
  nsp_.server().loops().timers(RedisBus::kHomeLoop).arm(refresh_timer_, period / 2, [this] {
    socketio::LoopScope scope(RedisBus::kHomeLoop);
    refresh();
  });
}

void PeerCount::on_bus_state(bool connected) {
  if (!connected) {
    saw_peer();  // unknown: publish (queued) until counted again
    return;
  }
  refresh();
}

bool PeerCount::alone() const {
  // Not known to be alone (the usual case with peers): no clock read on the broadcast path.
  const int64_t until = alone_until_ms_.load(std::memory_order_acquire);
  return until >= 0 && steady_ms() < until;
}

bool PeerCount::should_publish() const {
  return !(bus_.options().skip_publish_when_alone && alone());
}

}  // namespace sb::adapter
