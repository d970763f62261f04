#pragma once
// The adapter of a single node. Each loop keeps its own room index (room → the sockets of that
// loop in it); nothing is shared between loops and nothing is locked. A broadcast delivers to
// the calling loop's members at once and posts one task per other loop that has sockets in
// the namespace — the task carries the packet serialized once (OutPacket: a few BlobPtrs) and
// the targeting, shared by all loops through one immutable allocation. Each loop wraps the
// packet once (LocalPacket) and queues it on each receiver by reference.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/timer_wheel.h"
#include "socketio/adapter.h"
#include "socketio/runtime.h"

namespace sb::socketio {

class InMemoryAdapter : public Adapter {
 public:
  explicit InMemoryAdapter(Namespace& nsp);
  ~InMemoryAdapter() override;

  void add_all(Socket& s, std::span<const std::string> rooms) override;
  void del(Socket& s, std::string_view room) override;
  void del_all(Socket& s) override;

  void broadcast(const OutPacket& p, const BroadcastOptions& opts) override;
  void broadcast_with_ack(const OutPacket& p, const BroadcastOptions& opts, uint64_t ack_id,
                          BroadcastAckCallback done) override;
  void sockets(std::vector<std::string> rooms,
               std::function<void(std::vector<std::string>)> cb) override;
  void socket_rooms(std::string id,
                    std::function<void(std::optional<std::vector<std::string>>)> cb) override;
  void fetch_sockets(const BroadcastOptions& opts,
                     std::function<void(std::vector<SocketInfo>)> cb) override;
  void add_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) override;
  void del_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) override;
  void disconnect_sockets(const BroadcastOptions& opts, bool close) override;

  /// Local view (the loop's thread): sockets of `loop` selected by `opts`, each once, in no
  /// particular order.
  std::vector<Socket*> select_local(int loop, const BroadcastOptions& opts);
  /// Local view: members of `room` on `loop`.
  size_t room_size(int loop, std::string_view room) const;
  /// Delivers `p` to the local sockets `opts` selects; returns how many got it.
  size_t deliver_local(int loop, const OutPacket& p, const BroadcastOptions& opts);

  void on_broadcast_ack(uint64_t collector, std::string first_arg) override;
  /// Default deadline of a broadcast with acks when none was set.
  static constexpr uint32_t kDefaultAckTimeoutMs = 10000;

 private:
  /// A broadcast with acks in flight, on the loop that started it.
  struct Collector {
    size_t loops_pending = 0;  // loops that have not reported their receiver count
    size_t expected = 0;       // receivers counted so far
    std::vector<std::string> responses;
    BroadcastAckCallback done;
    net::Timer timer;
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct PerLoop {
    // Rooms joined explicitly. A socket's own room (its id) is not stored here: it has exactly
    // one member, found through the namespace's socket table (own_member), which saves a map
    // node, a set and its buckets per connection.
    std::unordered_map<std::string, std::unordered_set<Socket*>, SvHash, std::equal_to<>> rooms;
    std::vector<Socket*> scratch;
    // Socket::mark_ is 32 bits (it sits in an idle socket's padding): before the epoch wraps,
    // every mark of this loop is cleared (reset_marks), once per two billion selections.
    uint32_t epoch = 0;
    std::unordered_map<uint64_t, std::unique_ptr<Collector>> collectors;
    uint64_t next_collector = 1;
  };
  PerLoop& local(int loop) const { return per_loop_[static_cast<size_t>(loop)]; }
  void select(int loop, const BroadcastOptions& opts, std::vector<Socket*>& out);
  void reset_marks(int loop);
  /// The connected socket of `loop` whose own room is `room` (its id), if any.
  Socket* own_member(int loop, std::string_view room) const;
  size_t deliver(int loop, const OutPacket& p, const BroadcastOptions& opts,
                 const std::function<void(Socket&)>& before_send);
  /// Runs fn(loop) on every loop that has sockets: here at once, elsewhere posted.
  void on_each_loop(int origin, std::function<void(int)> fn);
  /// Runs per_loop(loop) on every loop and calls done(results) here with what they returned.
  template <typename T>
  void gather(int origin, std::function<T(int)> per_loop, std::function<void(std::vector<T>)> done);
  void finish_collector(int loop, uint64_t id, std::string_view error);
  void check_collector(int loop, uint64_t id);

  std::unique_ptr<PerLoop[]> per_loop_;
};

}  // namespace sb::socketio
