#pragma once
// The node's Redis connections, shared by the adapters of every namespace (DESIGN §2): one
// publisher and one subscriber client, both on loop 0. A message is received once, routed by
// channel (or pattern) to the namespace adapter that subscribed it, decoded there once and
// handed to the loops. One subscriber connection per node matters for interop: Node adapters
// count servers with PUBSUB NUMSUB, which counts connections.
//
// Redis Cluster: in sharded mode the bus asks the server (`INFO cluster`) before anything else.
// On a cluster node (cluster_enabled:1) it hands every sharded operation to a ClusterClient
// seeded with the URL: SPUBLISH/SSUBSCRIBE at the owner of each channel's slot, SHARDNUMSUB
// summed over the masters (what Node's adapter does with a cluster client). Until the answer,
// publishes and counts wait in a bounded queue. The classic mode never asks: PUBLISH and
// PSUBSCRIBE already span a whole cluster from any one node.
//
// Threading: the clients and the routing tables belong to loop 0; other threads post().
// ready() and connected() are readable from any thread (for /readyz).
//
// Lifetime: shared by the adapter factory and the adapters (shared_ptr). Destroy it — and the
// Socket.IO server whose adapters hold it — after the loops have stopped.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapter/redis_adapter_options.h"
#include "common/unique_function.h"
#include "redis/client.h"
#include "redis/cluster_client.h"

namespace sb::net {
class LoopGroup;
class Loop;
}  // namespace sb::net

namespace sb::adapter {

class RedisBus : public std::enable_shared_from_this<RedisBus> {
 public:
  /// What receives the messages of the channels it subscribed (an adapter).
  class Listener {
   public:
    virtual ~Listener() = default;
    /// Loop 0. The views in `m` are valid during the call only.
    virtual void on_bus_message(const redis::PubSubMessage& m) = 0;
    /// Loop 0: both connections up (true) or one lost (false).
    virtual void on_bus_state(bool /*connected*/) {}
  };

  RedisBus(net::LoopGroup& loops, const redis::Url& url, RedisAdapterOptions options);
  ~RedisBus();
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  const RedisAdapterOptions& options() const { return options_; }
  /// The loop the connections live on (0).
  net::Loop& home() const { return home_; }
  static constexpr int kHomeLoop = 0;

  /// Any thread: both connections are up, and have been for server_count_refresh_ms — long
  /// enough for every peer that skips publishing while alone to have counted this node (the
  /// rule in docs/adapters.md). Use for /readyz.
  bool ready() const;
  /// Any thread: both connections are up.
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  /// Connects both clients (posted to loop 0). make_redis_bus() calls it.
  void start();
  /// Stops both clients (posted to loop 0); final.
  void stop();

  // --- loop 0 only ---
  void publish(std::string_view channel, std::string_view payload);
  void spublish(std::string_view channel, std::string_view payload);
  /// PUBSUB NUMSUB / SHARDNUMSUB of one channel; nullopt on an error (or a lost connection).
  void numsub(std::string_view channel, UniqueFunction<void(std::optional<size_t>)> cb,
              bool sharded = false);
  void subscribe(std::string_view channel, Listener* l);
  void psubscribe(std::string_view pattern, Listener* l);
  void ssubscribe(std::string_view channel, Listener* l);
  void unsubscribe(std::string_view channel);
  void punsubscribe(std::string_view pattern);
  void sunsubscribe(std::string_view channel);
  /// Forgets every subscription routed to `l` (and unsubscribes them). Loop 0, or any thread
  /// once the loops have stopped.
  void detach(Listener* l);
  /// Monotonic milliseconds of loop 0.
  uint64_t now_ms() const;

  redis::Client& publisher() { return pub_; }
  redis::Client& subscriber() { return sub_; }
  /// Loop 0: the cluster client once `INFO cluster` said cluster_enabled:1, else null.
  redis::ClusterClient* cluster() { return cluster_.get(); }

 private:
  enum class Topology : uint8_t { kUnknown, kStandalone, kCluster };

  void start_now();
  void detect_topology();
  void use_topology(Topology t);
  /// While the topology is unknown: keeps `op` for later (false when the queue is full).
  bool defer(UniqueFunction<void()> op);
  void on_message(const redis::PubSubMessage& m);
  void on_client_state();

  net::Loop& home_;
  RedisAdapterOptions options_;
  redis::Client pub_;
  redis::Client sub_;
  std::unique_ptr<redis::ClusterClient> cluster_;
  Topology topology_ = Topology::kUnknown;
  std::vector<UniqueFunction<void()>> deferred_;  // bounded by options_.max_queue
  bool stopped_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> ready_at_ms_{-1};  // steady clock; -1: not connected

  std::mutex mu_;  // the routing tables (detach may come from a non-loop thread at shutdown)
  std::unordered_map<std::string, Listener*> channels_;
  std::unordered_map<std::string, Listener*> patterns_;
  std::unordered_map<std::string, Listener*> shard_channels_;
  std::unordered_map<Listener*, int> listeners_;  // for state notifications
};

}  // namespace sb::adapter
