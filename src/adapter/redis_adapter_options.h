#pragma once
// Options of the Redis adapters (classic `@socket.io/redis-adapter` and the sharded variant),
// shared by the node-wide connections (redis_bus.h) and the per-namespace adapters.

#include <cstddef>
#include <cstdint>
#include <string>

namespace sb::adapter {

enum class RedisAdapterMode : uint8_t {
  /// `createAdapter`: PUBLISH / PSUBSCRIBE `<key>#<nsp>#*`, request/response channels.
  kClassic,
  /// `createShardedAdapter`: SPUBLISH / SSUBSCRIBE, ClusterAdapter messages (Redis >= 7).
  kSharded,
};

/// The sharded adapter's `subscriptionMode`.
enum class SubscriptionMode : uint8_t {
  kStatic,          // only the namespace channel and this node's response channel
  kDynamic,         // plus one channel per public room this node has (default)
  kDynamicPrivate,  // plus one channel per socket-id room too
};

struct RedisAdapterOptions {
  /// `redis://[user:password@]host[:port][/db]` (loopback in tests).
  std::string url = "redis://127.0.0.1:6379";
  /// Channel prefix: the classic adapter's `key`, the sharded adapter's `channelPrefix`. Every
  /// node and emitter of one cluster must use the same.
  std::string key = "socket.io";
  /// fetchSockets, allRooms, serverSideEmit with ack: how long to wait for the other nodes.
  uint32_t requests_timeout_ms = 5000;
  /// Commands the Redis client queues while disconnected; beyond it they are dropped (counted).
  size_t max_queue = 10000;
  RedisAdapterMode mode = RedisAdapterMode::kClassic;
  SubscriptionMode subscription_mode = SubscriptionMode::kDynamic;
  /// Classic: answer requests on `<key>-response#<nsp>#<requester uid>#` instead of the common
  /// response channel (Node's `publishOnSpecificResponseChannel`; every node listens on both).
  bool publish_on_specific_response_channel = false;
  /// How often the server count (PUBSUB NUMSUB) is refreshed in the background. It decides
  /// whether a broadcast needs publishing at all (see docs/adapters.md for the rule).
  uint32_t server_count_refresh_ms = 1000;
  /// Skip PUBLISH for broadcasts while this node is known to be alone. Off: always publish, as
  /// the Node adapter does.
  bool skip_publish_when_alone = true;
};

}  // namespace sb::adapter
