#include "adapter/pending_requests.h"

#include "adapter/adapter_metrics.h"
#include "adapter/redis_bus.h"
#include "common/log.h"

namespace sb::adapter {
namespace {

using socketio::LoopScope;

constexpr int kHome = RedisBus::kHomeLoop;
constexpr std::string_view kTimedOut = "operation has timed out";

// A missing answer's payload (an ack called without an argument) reads as JSON null.
std::string json_or_null(std::string data_json) {
  return data_json.empty() ? std::string("null") : std::move(data_json);
}

}  // namespace

PendingRequests::PendingRequests(socketio::Loops& loops, std::string log_name, NewId new_id,
                                 AskCount ask, size_t max_pending, uint32_t watch_ms)
    : loops_(loops),
      log_name_(std::move(log_name)),
      new_id_(std::move(new_id)),
      ask_(std::move(ask)),
      max_pending_(max_pending),
      watch_ms_(watch_ms) {}

PendingRequests::~PendingRequests() {
  cancel_all();
}

std::optional<std::string> PendingRequests::open(RequestKind kind, int origin, uint32_t timeout_ms,
                                                 Completion done, Gathered seed) {
  if (pending_.size() >= max_pending_) {
    metrics::requests_rejected().inc();
    // Once per episode: a storm of refusals must not become a storm of log lines.
    if (!refusing_) {
      SB_LOG_WARN(
          "{}: requests refused, {} already in flight (counted in "
          "sb_adapter_requests_rejected_total)",
          log_name_, pending_.size());
    }
    refusing_ = true;
    seed.error = "too many requests in flight";
    complete(origin, std::move(done), std::move(seed));
    return std::nullopt;
  }
  refusing_ = false;
  std::string id = new_id_();
  while (pending_.count(id) != 0)
    id = new_id_();
  auto r = std::make_unique<Request>();
  r->kind = kind;
  r->origin = origin;
  r->done = std::move(done);
  r->gathered.sockets = std::move(seed.sockets);
  r->gathered.responses = std::move(seed.responses);
  add_rooms(*r, seed.rooms);
  Request& ref = *r;
  pending_.emplace(id, std::move(r));
  metrics::requests().inc();
  loops_.timers(kHome).arm(ref.timer, timeout_ms, [this, id] {
    LoopScope scope(kHome);
    finish(id, true);
  });
  return id;
}

std::optional<std::string> PendingRequests::open_fetch(
    int origin, uint32_t timeout_ms, std::vector<socketio::SocketInfo> mine,
    std::function<void(std::vector<socketio::SocketInfo>)> cb) {
  Gathered seed;
  seed.sockets = std::move(mine);
  // Node rejects a fetchSockets that times out; ours answers with what arrived (logged).
  return open(
      RequestKind::kFetch, origin, timeout_ms,
      [cb = std::move(cb)](Gathered g) {
        if (cb) cb(std::move(g.sockets));
      },
      std::move(seed));
}

std::optional<std::string> PendingRequests::open_all_rooms(
    int origin, uint32_t timeout_ms, std::vector<socketio::SocketInfo> mine,
    std::function<void(std::vector<std::string>)> cb) {
  Gathered seed;
  for (socketio::SocketInfo& s : mine) {
    for (std::string& r : s.rooms)
      seed.rooms.push_back(std::move(r));
  }
  return open(
      RequestKind::kAllRooms, origin, timeout_ms,
      [cb = std::move(cb)](Gathered g) {
        if (cb) cb(std::move(g.rooms));
      },
      std::move(seed));
}

std::optional<std::string> PendingRequests::open_server_side_emit(
    int origin, uint32_t timeout_ms, socketio::BroadcastAckCallback done) {
  return open(RequestKind::kServerSideEmit, origin, timeout_ms,
              [done = std::move(done)](Gathered g) {
                if (done) done(g.error, std::move(g.responses));
              });
}

std::optional<std::string> PendingRequests::open_broadcast_ack(
    int origin, uint32_t timeout_ms, socketio::BroadcastAckCallback done) {
  return open(RequestKind::kBroadcastAck, origin, timeout_ms, [done = std::move(done)](Gathered g) {
    if (done) done(g.error, std::move(g.responses));
  });
}

void PendingRequests::count_and_publish(const std::string& id, UniqueFunction<void()> publish) {
  ask_([this, alive = std::weak_ptr<char>(alive_), id,
        publish = std::move(publish)](std::optional<size_t> n) mutable {
    if (alive.expired()) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Request& r = *it->second;
    // The count includes us. Unknown (Redis away): nobody else is reachable now.
    const size_t others = n && *n > 1 ? *n - 1 : 0;
    r.expected = others;
    r.expected_first = others;
    if (others > 0) {
      publish();
      watch();
    }
    check(id);
  });
}

void PendingRequests::expect_none(const std::string& id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second->expected = 0;
  check(id);
}

PendingRequests::Request* PendingRequests::find(const std::string& id, RequestKind kind) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->kind != kind) return nullptr;
  return it->second.get();
}

void PendingRequests::add_rooms(Request& r, std::vector<std::string>& rooms) {
  for (std::string& room : rooms)
    if (r.room_set.insert(room).second) r.gathered.rooms.push_back(std::move(room));
}

bool PendingRequests::answer_sockets(const std::string& id,
                                     std::vector<classic::FetchedSocket> sockets) {
  Request* r = find(id, RequestKind::kFetch);
  if (r == nullptr) return false;
  ++r->received;
  for (classic::FetchedSocket& f : sockets) {
    socketio::SocketInfo s;
    s.id = std::move(f.id);
    s.rooms = std::move(f.rooms);
    s.handshake_json = std::move(f.handshake_json);
    s.data_json = std::move(f.data_json);
    r->gathered.sockets.push_back(std::move(s));
  }
  check(id);
  return true;
}

bool PendingRequests::answer_rooms(const std::string& id, std::vector<std::string> rooms) {
  Request* r = find(id, RequestKind::kAllRooms);
  if (r == nullptr) return false;
  ++r->received;
  add_rooms(*r, rooms);
  check(id);
  return true;
}

bool PendingRequests::answer_response(const std::string& id, std::string data_json) {
  Request* r = find(id, RequestKind::kServerSideEmit);
  if (r == nullptr) return false;
  ++r->received;
  r->gathered.responses.push_back(json_or_null(std::move(data_json)));
  check(id);
  return true;
}

bool PendingRequests::answer_client_count(const std::string& id, uint64_t clients) {
  Request* r = find(id, RequestKind::kBroadcastAck);
  if (r == nullptr) return false;
  ++r->received;
  r->client_count += clients;
  check(id);
  return true;
}

bool PendingRequests::answer_ack(const std::string& id, std::string data_json) {
  Request* r = find(id, RequestKind::kBroadcastAck);
  if (r == nullptr) return false;
  ++r->remote_acks;
  r->gathered.responses.push_back(json_or_null(std::move(data_json)));
  check(id);
  return true;
}

bool PendingRequests::local_done(const std::string& id, std::string_view error,
                                 std::vector<std::string> responses) {
  Request* r = find(id, RequestKind::kBroadcastAck);
  if (r == nullptr) return false;
  r->local_done = true;
  r->local_error = std::string(error);
  for (std::string& s : responses)
    r->gathered.responses.push_back(std::move(s));
  check(id);
  return true;
}

// A broadcast with acks also waits for this node's clients and for one ack per client the
// other nodes reported (their counts are the number of answers they will send).
void PendingRequests::check(const std::string& id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const Request& r = *it->second;
  if (r.expected == kUnknown) return;
  bool done = r.received >= r.expected;
  if (r.kind == RequestKind::kBroadcastAck)
    done = done && r.local_done && r.remote_acks >= r.client_count;
  if (done) finish(id, false);
}

void PendingRequests::finish(const std::string& id, bool timed_out) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Request> r = std::move(it->second);
  pending_.erase(it);
  r->timer.cancel();
  Gathered& g = r->gathered;
  const size_t expected = r->expected == kUnknown ? 0 : r->expected;
  if (timed_out) {
    metrics::requests_timed_out().inc();
    SB_LOG_WARN("{}: request {} timed out with {} of {} answers", log_name_, id, r->received,
                expected);
    g.error = r->kind == RequestKind::kServerSideEmit
                  ? "timeout reached: only " + std::to_string(r->received) +
                        " responses received out of " + std::to_string(expected)
                  : std::string(kTimedOut);
  } else if (r->shrunk) {
    metrics::requests_partial().inc();
    const size_t left = r->expected_first - r->expected;
    SB_LOG_WARN("{}: request {} ended with {} answers: {} of {} nodes left", log_name_, id,
                r->received, left, r->expected_first);
    if (r->kind == RequestKind::kServerSideEmit)
      g.error = "partial: " + std::to_string(left) + " server(s) left before answering";
  }
  if (r->kind == RequestKind::kBroadcastAck && g.error.empty()) g.error = std::move(r->local_error);
  complete(r->origin, std::move(r->done), std::move(g));
}

// The completion owns what it carries: a task that never runs (loops stopping) frees it.
void PendingRequests::complete(int origin, Completion done, Gathered g) {
  if (!done) return;
  if (socketio::current_loop() == origin) {
    done(std::move(g));
    return;
  }
  loops_.post(origin, [origin, done = std::move(done), g = std::move(g)]() mutable {
    LoopScope scope(origin);
    done(std::move(g));
  });
}

// Node counts answers, not nodes: a node that dies mid-request makes the Node requester wait
// for the whole timeout. Here the servers are counted again while requests are in flight; when
// the count drops, what can still arrive is lowered and the request ends with what it has.
void PendingRequests::watch() {
  if (watching_) return;
  watching_ = true;
  loops_.timers(kHome).arm(watch_timer_, watch_ms_, [this] {
    LoopScope scope(kHome);
    watching_ = false;
    if (pending_.empty()) return;
    ask_([this, alive = std::weak_ptr<char>(alive_)](std::optional<size_t> n) {
      if (alive.expired()) return;
      if (n && *n >= 1) {
        const size_t others = *n - 1;
        std::vector<std::string> ids;
        for (auto& [id, r] : pending_) {
          if (r->expected != kUnknown && others < r->expected) {
            r->expected = others;
            r->shrunk = true;
            ids.push_back(id);
          }
        }
        for (const std::string& id : ids)
          check(id);
      }
      if (!pending_.empty()) watch();
    });
  });
}

void PendingRequests::cancel_all() {
  watch_timer_.cancel();
  watching_ = false;
  pending_.clear();  // each Request's timer disarms itself
}

}  // namespace sb::adapter
