#pragma once
// Counting the servers of a namespace, and knowing when this node is alone: the part the classic
// and sharded Redis adapters share. Both count the connections subscribed to the one channel
// every server of the namespace subscribes (classic: PUBSUB NUMSUB of the request channel, as
// Node's serverCount; sharded: PUBSUB SHARDNUMSUB of the main channel).
//
// The rule (docs/adapters.md): a count of ≤ 1 proves "alone" only until server_count_refresh_ms
// (R) after that count was *sent*; counts are asked every R/2 so a node that stays alone never
// lapses into publishing; any sign of a peer (a message from another uid, a lost connection, a
// failed count) ends "alone" at once.
//
// Threads: refresh/ask/saw_peer/on_bus_state run on loop 0 (the bus's loop); alone(),
// should_publish() and server_count() are read from any loop (atomics).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "adapter/redis_bus.h"
#include "common/unique_function.h"
#include "net/timer_wheel.h"

namespace sb::socketio {
class Namespace;
}

namespace sb::adapter {

class PeerCount {
 public:
  /// `channel`: the channel every server of the namespace subscribes; `sharded`: SHARDNUMSUB.
  PeerCount(RedisBus& bus, socketio::Namespace& nsp, std::string channel, bool sharded);
  PeerCount(const PeerCount&) = delete;
  PeerCount& operator=(const PeerCount&) = delete;

  /// Loop 0: counts now, then again every server_count_refresh_ms / 2, for good.
  void refresh();
  /// Loop 0: one count, not cached (nullopt: unknown — an error or a lost connection).
  void ask(UniqueFunction<void(std::optional<size_t>)> cb);
  /// Loop 0: the bus connected (count again) or lost a connection (not alone any more).
  void on_bus_state(bool connected);
  /// Loop 0: a message from another server arrived.
  void saw_peer() { alone_until_ms_.store(-1, std::memory_order_release); }

  /// Any loop: this node is known to be alone now.
  bool alone() const;
  /// Any loop: false while alone and the options allow skipping (skip_publish_when_alone).
  bool should_publish() const;
  /// Any loop: the last count, this server included (at least 1).
  size_t server_count() const { return server_count_.load(std::memory_order_relaxed); }

 private:
  RedisBus& bus_;
  socketio::Namespace& nsp_;
  std::string channel_;
  bool sharded_;
  std::atomic<size_t> server_count_{1};
  std::atomic<int64_t> alone_until_ms_{-1};  // steady clock; -1: not known to be alone
  net::Timer refresh_timer_;
};

}  // namespace sb::adapter
