#pragma once
// The requests a Redis adapter sends to the other nodes and waits on (fetchSockets, allRooms,
// serverSideEmit with ack, broadcast with ack): the bookkeeping the classic and sharded adapters
// share. Each adapter keeps only its wire format and its channels: it opens a request here,
// publishes it through count_and_publish, decodes what comes back and feeds it here.
//
// A request ends when every expected answer arrived (the count comes from NUMSUB/SHARDNUMSUB,
// minus this node), at its timeout with what arrived, or early with what arrived when a node
// leaves mid-request: while requests are in flight the servers are counted again every
// watch period, and a lower count lowers what can still arrive (Node's adapter waits for the
// whole timeout instead). Completions run on the loop that made the request.
//
// Bounded: at most `max_pending` requests in flight per adapter; one more is refused at once
// (its completion gets what this node gathered and an error; logged, counted in
// sb_adapter_requests_rejected_total) instead of growing the table during a storm.
//
// Threads: everything here runs on the home loop (loop 0, the bus's loop), except that
// completions are posted to their origin loop.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapter/classic_codec.h"
#include "common/unique_function.h"
#include "net/timer_wheel.h"
#include "socketio/adapter.h"
#include "socketio/runtime.h"

namespace sb::adapter {

enum class RequestKind : uint8_t { kFetch, kAllRooms, kServerSideEmit, kBroadcastAck };

/// What a request gathered: this node's part (the seed) and the other nodes' answers.
struct Gathered {
  std::vector<socketio::SocketInfo> sockets;  // fetchSockets
  std::vector<std::string> rooms;             // allRooms, without duplicates
  std::vector<std::string> responses;         // serverSideEmit / broadcast acks: raw JSON each
  /// Empty when complete. Timeouts: "operation has timed out" (serverSideEmit: Node's
  /// "timeout reached: only N responses received out of M"); refused over the bound;
  /// serverSideEmit ended by a node leaving: "partial: …"; a broadcast's local error.
  std::string error;
};

class PendingRequests {
 public:
  /// Requests in flight per adapter (namespace) before new ones are refused.
  static constexpr size_t kMaxPending = 10000;
  /// How often the servers are counted again while requests are in flight.
  static constexpr uint32_t kWatchMs = 250;

  /// Runs on the origin loop with what the request gathered.
  using Completion = UniqueFunction<void(Gathered)>;
  /// Counts the servers of the namespace, this one included (PeerCount::ask); nullopt: unknown.
  using AskCount = UniqueFunction<void(UniqueFunction<void(std::optional<size_t>)>)>;
  /// A fresh request id (the protocol's format: classic 6 characters, sharded 16 hex digits).
  using NewId = UniqueFunction<std::string()>;

  /// `loops`: timers and the origin loops' queues; `log_name` prefixes log lines
  /// ("redis adapter /chat").
  PendingRequests(socketio::Loops& loops, std::string log_name, NewId new_id, AskCount ask,
                  size_t max_pending = kMaxPending, uint32_t watch_ms = kWatchMs);
  PendingRequests(const PendingRequests&) = delete;
  PendingRequests& operator=(const PendingRequests&) = delete;
  ~PendingRequests();

  /// Opens a request that ends at the latest after `timeout_ms`. `seed` is this node's own
  /// part (fetch: its sockets; allRooms: its rooms, duplicates allowed). Returns the id to put
  /// on the wire, or nullopt when refused (the bound): `done` then already has the seed and an
  /// error, and nothing must be published.
  std::optional<std::string> open(RequestKind kind, int origin, uint32_t timeout_ms,
                                  Completion done, Gathered seed = {});
  // The four requests, completing with what their callers expect.
  std::optional<std::string> open_fetch(int origin, uint32_t timeout_ms,
                                        std::vector<socketio::SocketInfo> mine,
                                        std::function<void(std::vector<socketio::SocketInfo>)> cb);
  /// `mine`: this node's sockets, whose rooms are this node's part.
  std::optional<std::string> open_all_rooms(int origin, uint32_t timeout_ms,
                                            std::vector<socketio::SocketInfo> mine,
                                            std::function<void(std::vector<std::string>)> cb);
  std::optional<std::string> open_server_side_emit(int origin, uint32_t timeout_ms,
                                                   socketio::BroadcastAckCallback done);
  std::optional<std::string> open_broadcast_ack(int origin, uint32_t timeout_ms,
                                                socketio::BroadcastAckCallback done);

  /// Counts the other servers, then runs `publish` when there are any, and completes the
  /// request at once when there are none (alone, or Redis unreachable).
  void count_and_publish(const std::string& id, UniqueFunction<void()> publish);
  /// Nothing will be asked of the other nodes (a broadcast not encodable for them).
  void expect_none(const std::string& id);

  // Answers. Each returns false when `id` is not a request of the matching kind in flight (an
  // answer after the end, another node's request, a mismatched type): it is then ignored.
  bool answer_sockets(const std::string& id, std::vector<classic::FetchedSocket> sockets);
  bool answer_rooms(const std::string& id, std::vector<std::string> rooms);
  bool answer_response(const std::string& id, std::string data_json);
  /// A broadcast with ack: how many clients of one node got it (counts as that node's answer).
  bool answer_client_count(const std::string& id, uint64_t clients);
  /// A broadcast with ack: one client's answer (does not count as a node's answer).
  bool answer_ack(const std::string& id, std::string data_json);
  /// A broadcast with ack: this node's clients answered or timed out.
  bool local_done(const std::string& id, std::string_view error,
                  std::vector<std::string> responses);

  /// The request is in flight (a request of ours coming back on the channel).
  bool contains(const std::string& id) const { return pending_.count(id) != 0; }
  size_t size() const { return pending_.size(); }

  /// Shutdown: ends every request without running its completion (the loops that would run
  /// them are stopping) and stops watching. Answers arriving later are ignored.
  void cancel_all();

 private:
  static constexpr size_t kUnknown = SIZE_MAX;
  struct Request {
    RequestKind kind = RequestKind::kFetch;
    int origin = 0;
    size_t expected = kUnknown;  // answers expected from the other nodes (unknown until counted)
    size_t expected_first = 0;   // what the first count said (for the log)
    size_t received = 0;         // nodes' answers (BROADCAST_CLIENT_COUNT for acks)
    bool shrunk = false;         // a node left: `expected` lowered
    Gathered gathered;
    std::unordered_set<std::string> room_set;
    // Broadcast with ack.
    bool local_done = false;
    std::string local_error;
    uint64_t client_count = 0;
    size_t remote_acks = 0;
    Completion done;
    net::Timer timer;
  };

  Request* find(const std::string& id, RequestKind kind);
  void check(const std::string& id);
  void finish(const std::string& id, bool timed_out);
  void complete(int origin, Completion done, Gathered g);
  void watch();
  void add_rooms(Request& r, std::vector<std::string>& rooms);

  socketio::Loops& loops_;
  std::string log_name_;
  NewId new_id_;
  AskCount ask_;
  size_t max_pending_;
  uint32_t watch_ms_;
  net::Timer watch_timer_;
  bool watching_ = false;
  bool refusing_ = false;  // refusing since the last request opened (logged once)
  std::unordered_map<std::string, std::unique_ptr<Request>> pending_;
  // Counts outlive us in the Redis client's queue: their callbacks check this first.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace sb::adapter
