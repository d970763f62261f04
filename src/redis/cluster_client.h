#pragma once
// Redis Cluster on top of redis::Client: one command client per master (and one subscriber client
// per master that owns a subscribed shard channel), a slot map from CLUSTER SLOTS, commands routed
// by the CRC16 slot of their key, MOVED/ASK redirections followed, and sharded pub/sub
// (SSUBSCRIBE/SPUBLISH) sent to the slot owner — what the sharded Socket.IO adapter needs.
//
// Same threading rules as Client: everything on the owning loop's thread.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_function.h"
#include "net/loop.h"
#include "redis/client.h"

namespace sb::redis {

inline constexpr uint16_t kClusterSlots = 16384;

/// CRC16-XMODEM of the key's hash tag (`{...}`, when non-empty) or of the whole key, mod 16384.
uint16_t key_slot(std::string_view key);

struct ClusterOptions {
  std::vector<Url> seeds;                // any reachable nodes; the rest is discovered
  ClientOptions node;                    // template for each node's clients (url replaced per node)
  uint32_t refresh_interval_ms = 10000;  // periodic CLUSTER SLOTS (catches quiet slot moves)
  uint32_t max_redirects = 5;            // MOVED/ASK hops per command before giving up
};

class ClusterClient {
 public:
  ClusterClient(net::Loop& loop, ClusterOptions options);
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  void start();
  /// Stops every node client (their pending callbacks get error replies). Final.
  void stop();
  /// Slot map loaded and every master's command client connected (and subscriber clients too).
  bool connected() const { return up_; }

  /// A command routed by the slot of `key`. Before the slot map is known, it goes to the first
  /// seed and follows the MOVED answer. `cb` is called exactly once (reply, or error reply).
  void command(std::string_view key, std::span<const std::string_view> argv, ReplyCallback cb = {});
  void command(std::string_view key, std::initializer_list<std::string_view> argv,
               ReplyCallback cb = {});
  /// Runs `argv` on every master; `cb` gets the replies (one per master, any order). A master
  /// whose connection was lost answers "ERR node down" at once rather than queueing the command
  /// for a node that may never come back (a failover replaces it in the map).
  void command_on_masters(std::span<const std::string_view> argv,
                          UniqueFunction<void(std::vector<Reply>)> cb);

  /// Commands waiting for their slot owner's connection (see send()).
  size_t parked() const { return parked_.size(); }

  /// SPUBLISH to the owner of the channel's slot. `cb` gets the receiver count (or an error).
  void spublish(std::string_view channel, std::string_view payload, ReplyCallback cb = {});
  /// Sharded subscriptions: sent to the slot owner, moved when the slot map changes.
  void ssubscribe(std::string_view channel);
  void sunsubscribe(std::string_view channel);
  void on_message(std::function<void(const PubSubMessage&)> handler);
  void on_state(std::function<void(bool connected)> handler);

  /// Masters known from the last slot map (diagnostics, tests): "host:port".
  std::vector<std::string> masters() const;
  uint64_t refreshes() const { return refreshes_; }
  uint64_t redirects() const { return redirects_; }

 private:
  struct Node {
    std::string host;
    uint16_t port = 0;
    bool master = false;  // owns slots in the current map
    std::unique_ptr<Client> cmd;
    std::unique_ptr<Client> sub;  // created on the first shard subscription it must carry
  };
  struct Request;

  int node_for(const std::string& host, uint16_t port);
  Client& subscriber(int node);
  void send(const std::shared_ptr<Request>& req, int node, bool asking);
  /// Re-sends parked commands whose (current) slot owner is connected.
  void flush_parked();
  bool node_down(int node) const;
  void on_result(const std::shared_ptr<Request>& req, const Reply& r);
  void refresh();
  void schedule_refresh(uint32_t delay_ms);
  void apply_slots(const Reply& r, int asked);
  void place_subscription(const std::string& channel, int& node);
  void update_state();

  net::Loop& loop_;
  ClusterOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;    // indices are stable (nodes are never removed)
  std::array<int16_t, kClusterSlots> slots_{};  // owner node index, -1 when unknown
  bool map_ready_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  bool started_ = false;
  bool stopped_ = false;
  bool up_ = false;
  uint64_t refreshes_ = 0;
  uint64_t redirects_ = 0;
  std::map<std::string, int, std::less<>> shard_channels_;  // channel → node carrying it (-1: none)
  uint64_t refresh_gen_ = 0;  // a CLUSTER SLOTS answer after its timeout is ignored
  size_t refresh_pick_ = 0;   // round-robin over nodes when none is connected
  std::vector<std::shared_ptr<Request>> parked_;
  net::Timer refresh_timer_;
  net::Timer refresh_timeout_;
  std::function<void(const PubSubMessage&)> on_message_;
  std::function<void(bool)> on_state_;
};

}  // namespace sb::redis
