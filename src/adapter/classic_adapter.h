#pragma once
// The classic Redis adapter of one namespace: Node's `RedisAdapter` (@socket.io/redis-adapter
// 8.3, `createAdapter`) on the wire (classic_codec.h), the in-memory adapter for local
// delivery (composition: it owns an InMemoryAdapter and hands it what arrives).
//
// Threads. Adapter calls come from any loop. Local delivery runs where it is called, as in the
// in-memory adapter; everything that touches Redis or the table of requests in flight runs on
// loop 0 (the bus's loop), and results are posted back to the calling loop. A broadcast is
// encoded to MessagePack on the calling loop and only the PUBLISH is posted to loop 0; what
// arrives is decoded once on loop 0 into an OutPacket and handed to the in-memory adapter.
//
// Differences from the Node adapter (each "better, and compatible"):
// - nothing is published while this node is known to be alone (docs/adapters.md: the rule);
// - socketsJoin/Leave/disconnectSockets apply locally at once (Node waits for its own message
//   to come back from Redis, so they do nothing during an outage) and ignore their echo;
// - requests end early with what arrived when a node leaves mid-request (PUBSUB NUMSUB is
//   re-checked while requests are in flight), logged and counted as partial;
// - fetchSockets/allRooms answer with the partial result at the timeout instead of failing.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapter/classic_codec.h"
#include "adapter/peer_count.h"
#include "adapter/pending_requests.h"
#include "adapter/redis_bus.h"
#include "socketio/in_memory_adapter.h"

namespace sb::adapter {

class ClassicRedisAdapter final : public socketio::Adapter, public RedisBus::Listener {
 public:
  ClassicRedisAdapter(socketio::Namespace& nsp, std::shared_ptr<RedisBus> bus);
  ~ClassicRedisAdapter() override;

  /// This adapter's node id on the wire (6 URL-safe characters, per namespace, as Node).
  const std::string& uid() const { return uid_; }
  const classic::Channels& channels() const { return channels_; }

  // --- socketio::Adapter ---
  void add_all(socketio::Socket& s, std::span<const std::string> rooms) override {
    local_.add_all(s, rooms);
  }
  void del(socketio::Socket& s, std::string_view room) override { local_.del(s, room); }
  void del_all(socketio::Socket& s) override { local_.del_all(s); }

  void broadcast(const socketio::OutPacket& p, const socketio::BroadcastOptions& opts) override;
  void broadcast_with_ack(const socketio::OutPacket& p, const socketio::BroadcastOptions& opts,
                          uint64_t ack_id, socketio::BroadcastAckCallback done) override;
  void on_broadcast_ack(uint64_t collector, std::string first_arg) override {
    local_.on_broadcast_ack(collector, std::move(first_arg));
  }
  /// Local only, as Node's 8.x adapter (allSockets() stopped asking the other nodes).
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
  void all_rooms(std::function<void(std::vector<std::string>)> cb) override;
  size_t server_count() const override { return peers_.server_count(); }
  void fetch_server_count(std::function<void(size_t)> cb) override;
  bool wants_source() const override { return true; }

  // --- RedisBus::Listener (loop 0) ---
  void on_bus_message(const redis::PubSubMessage& m) override;
  void on_bus_state(bool connected) override;

  /// True while this node is known to be alone (broadcasts are then not published).
  bool alone() const { return peers_.alone(); }

 private:
  socketio::Loops& loops() const;
  /// The calling loop, or 0 outside the loops.
  static int here();
  /// Runs fn on loop 0 (now when already there).
  void on_home(std::function<void()> fn);
  /// Runs fn on `loop` (now when already there).
  void on_loop(int loop, std::function<void()> fn);
  void attach();
  /// PUBLISH from any loop (posted to loop 0 unless already there).
  void publish(std::string_view channel, std::string payload);

  /// Loop 0: publishes a request on the request channel once NUMSUB says others are there.
  void send_request(const std::string& id, std::string payload);

  // Receiving (loop 0).
  void on_broadcast(std::string_view payload);
  void on_request(std::string_view payload);
  void on_response(std::string_view payload);
  void answer(const classic::Request& q, const std::string& payload);
  void answer_fetch(const classic::Request& q);
  void answer_all_rooms(const classic::Request& q);
  void answer_broadcast_with_ack(const classic::Request& q);
  void answer_server_side_emit(const classic::Request& q);

  socketio::InMemoryAdapter local_;
  std::shared_ptr<RedisBus> bus_;
  std::string uid_;
  classic::Channels channels_;
  PeerCount peers_;           // NUMSUB of the request channel
  classic::Broadcast rx_;     // loop 0: the broadcast being received (buffers reused)
  PendingRequests requests_;  // loop 0: requests to the other nodes in flight
};

}  // namespace sb::adapter
