#pragma once
// The sharded Redis adapter of one namespace: Node's `createShardedAdapter` (@socket.io/redis-
// adapter 8.3, a socket.io-adapter ClusterAdapter over Redis 7 sharded pub/sub) on the wire
// (sharded_codec.h), with the in-memory adapter for local delivery (composition).
//
// Channels: SSUBSCRIBE `<prefix>#<nsp>#` (everything; SHARDNUMSUB counts servers on it) and
// `<prefix>#<nsp>#<uid>#` (answers to us); with subscriptionMode dynamic, one
// `<prefix>#<nsp>#<room>#` per public room this node has (dynamic-private: socket-id rooms
// too), subscribed when the node's first member joins and dropped when its last one leaves
// (a node-wide count kept on loop 0). A broadcast to exactly one such room, without acks,
// goes to the room's channel, so nodes without members never receive it.
//
// Threads as in the classic adapter (classic_adapter.h): Redis and requests on loop 0,
// results posted back to the calling loop. Like Node's ClusterAdapter, every operation applies
// locally at once and every message from our own uid is ignored. Not published while alone
// (same rule as the classic adapter, docs/adapters.md). allRooms is answered through
// fetchSockets (the sharded protocol has no ALL_ROOMS).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapter/peer_count.h"
#include "adapter/pending_requests.h"
#include "adapter/redis_bus.h"
#include "adapter/sharded_codec.h"
#include "socketio/in_memory_adapter.h"

namespace sb::adapter {

class ShardedRedisAdapter final : public socketio::Adapter, public RedisBus::Listener {
 public:
  ShardedRedisAdapter(socketio::Namespace& nsp, std::shared_ptr<RedisBus> bus);
  ~ShardedRedisAdapter() override;

  const std::string& uid() const { return uid_; }
  /// `<prefix>#<nsp>#<room>#`
  std::string room_channel(std::string_view room) const;

  void add_all(socketio::Socket& s, std::span<const std::string> rooms) override;
  void del(socketio::Socket& s, std::string_view room) override;
  void del_all(socketio::Socket& s) override;

  void broadcast(const socketio::OutPacket& p, const socketio::BroadcastOptions& opts) override;
  void broadcast_with_ack(const socketio::OutPacket& p, const socketio::BroadcastOptions& opts,
                          uint64_t ack_id, socketio::BroadcastAckCallback done) override;
  void on_broadcast_ack(uint64_t collector, std::string first_arg) override {
    local_.on_broadcast_ack(collector, std::move(first_arg));
  }
  void sockets(std::vector<std::string> rooms,
               std::function<void(std::vector<std::string>)> cb) override {
    local_.sockets(std::move(rooms), std::move(cb));
  }
  void socket_rooms(std::string id,
                    std::function<void(std::optional<std::vector<std::string>>)> cb) override {
    local_.socket_rooms(std::move(id), std::move(cb));
  }
  void fetch_sockets(const socketio::BroadcastOptions& opts,
                     std::function<void(std::vector<socketio::SocketInfo>)> cb) override;
  void add_sockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
  void del_sockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
  void disconnect_sockets(const socketio::BroadcastOptions& opts, bool close) override;
  void server_side_emit(std::string_view event, std::span<const socketio::Json> args) override;
  void server_side_emit_with_ack(std::string_view event, std::span<const socketio::Json> args,
                                 socketio::BroadcastAckCallback done) override;
  size_t server_count() const override { return peers_.server_count(); }
  void fetch_server_count(std::function<void(size_t)> cb) override;
  bool wants_source() const override { return true; }

  void on_bus_message(const redis::PubSubMessage& m) override;
  void on_bus_state(bool connected) override;

  bool alone() const { return peers_.alone(); }
  /// Loop 0: room channels this node is subscribed to (for tests and diagnostics).
  size_t room_subscriptions() const { return room_refs_.size(); }

 private:
  socketio::Loops& loops() const;
  static int here();
  void on_loop(int loop, std::function<void()> fn);
  void attach();
  /// SPUBLISH from any loop (posted to loop 0).
  void publish(std::string channel, std::string payload);
  bool dynamic_room(const socketio::Socket& s, std::string_view room) const;
  /// Loop 0: a member of `room` came (+1) or went (-1) somewhere on this node.
  void room_ref(const std::string& room, int delta);

  /// Loop 0: publishes a request on the main channel once SHARDNUMSUB says others are there.
  void send_request(const std::string& id, std::string payload);

  void on_message(std::string_view payload, bool response_channel);
  void answer(const sharded::Message& m, const std::string& payload);

  socketio::InMemoryAdapter local_;
  std::shared_ptr<RedisBus> bus_;
  std::string uid_;
  std::string channel_;           // <prefix>#<nsp>#
  std::string response_channel_;  // <prefix>#<nsp>#<uid>#
  std::string own_tail_;          // `,"uid":"<uid>","nsp":"<nsp>"}`: how our JSON messages end
  PeerCount peers_;               // SHARDNUMSUB of the main channel
  PendingRequests requests_;      // loop 0: requests to the other nodes in flight
  std::unordered_map<std::string, size_t> room_refs_;  // loop 0: members per dynamic room
};

}  // namespace sb::adapter
