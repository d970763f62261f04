// PendingRequests, the request bookkeeping both Redis adapters share, on hand-driven loops: the
// server count is answered by the test (as Redis would answer PUBSUB NUMSUB), timers fire when
// the test moves the clock, and completions run on their origin loop.

#include "adapter/pending_requests.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "../socketio/fake_runtime.h"
#include "adapter/adapter_metrics.h"

namespace sb::adapter {
namespace {

using socketio::LoopScope;
using socketio::SocketInfo;
using socketio::testing::FakeLoops;

constexpr int kOrigin = 1;  // completions are posted to this loop; the table lives on loop 0
constexpr uint32_t kTimeoutMs = 1000;
constexpr uint32_t kWatchMs = 100;

using CountReply = UniqueFunction<void(std::optional<size_t>)>;

classic::FetchedSocket remote_socket(std::string id) {
  classic::FetchedSocket f;
  f.id = std::move(id);
  f.rooms = {"r"};
  f.data_json = "{}";
  return f;
}

struct PendingRequestsTest : ::testing::Test {
  PendingRequestsTest() : scope(0) {}

  PendingRequests make(size_t max_pending = PendingRequests::kMaxPending) {
    return PendingRequests(
        loops, "test adapter", [this] { return "req" + std::to_string(++ids); },
        [this](CountReply cb) { counts.push_back(std::move(cb)); }, max_pending, kWatchMs);
  }
  /// Answers the oldest server count asked (the count includes this node).
  void count(std::optional<size_t> servers) {
    ASSERT_FALSE(counts.empty());
    CountReply cb = std::move(counts.front());
    counts.pop_front();
    cb(servers);
  }
  /// A publish callback that records the request was published.
  UniqueFunction<void()> publisher() {
    return [this] { ++published; };
  }

  FakeLoops loops{2};
  LoopScope scope;  // the test body runs as loop 0, like the adapters' request table
  std::deque<CountReply> counts;
  int ids = 0;
  int published = 0;
};

// The completions of the four kinds, recorded where they ran.
struct Outcome {
  bool done = false;
  int loop = -2;
  std::vector<SocketInfo> sockets;
  std::vector<std::string> strings;  // rooms or responses
  std::string error;
};

std::function<void(std::vector<SocketInfo>)> record_sockets(Outcome& o) {
  return [&o](std::vector<SocketInfo> s) {
    EXPECT_FALSE(o.done) << "completed twice";
    o = {true, socketio::current_loop(), std::move(s), {}, {}};
  };
}

std::function<void(std::vector<std::string>)> record_rooms(Outcome& o) {
  return [&o](std::vector<std::string> r) {
    EXPECT_FALSE(o.done) << "completed twice";
    o = {true, socketio::current_loop(), {}, std::move(r), {}};
  };
}

socketio::BroadcastAckCallback record_acks(Outcome& o) {
  return [&o](std::string_view error, std::vector<std::string> r) {
    EXPECT_FALSE(o.done) << "completed twice";
    o = {true, socketio::current_loop(), {}, std::move(r), std::string(error)};
  };
}

TEST_F(PendingRequestsTest, EveryExpectedAnswerCompletesItOnTheOriginLoop) {
  PendingRequests reqs = make();
  Outcome o;
  std::vector<SocketInfo> mine(1);
  mine[0].id = "local";
  mine[0].loop = 0;
  const std::optional<std::string> id =
      reqs.open_fetch(kOrigin, kTimeoutMs, std::move(mine), record_sockets(o));
  ASSERT_TRUE(id);
  EXPECT_TRUE(reqs.contains(*id));
  reqs.count_and_publish(*id, publisher());
  EXPECT_EQ(published, 0);  // not before the count
  count(3);                 // two other servers
  EXPECT_EQ(published, 1);

  std::vector<classic::FetchedSocket> a;
  a.push_back(remote_socket("a"));
  EXPECT_TRUE(reqs.answer_sockets(*id, std::move(a)));
  loops.run();
  EXPECT_FALSE(o.done);
  EXPECT_TRUE(reqs.answer_sockets(*id, {}));  // a node with no matching socket still answers
  EXPECT_FALSE(reqs.contains(*id));
  EXPECT_FALSE(o.done);  // posted to the origin loop, not run here
  loops.run();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.loop, kOrigin);
  ASSERT_EQ(o.sockets.size(), 2u);
  EXPECT_EQ(o.sockets[0].id, "local");
  EXPECT_EQ(o.sockets[1].id, "a");
  EXPECT_TRUE(o.sockets[1].remote());
  EXPECT_EQ(o.sockets[1].rooms, std::vector<std::string>{"r"});
  EXPECT_EQ(reqs.size(), 0u);
}

TEST_F(PendingRequestsTest, AloneOrRedisUnreachableCompletesAtOnceWithoutPublishing) {
  PendingRequests reqs = make();
  Outcome alone;
  Outcome unknown;
  const auto a = reqs.open_server_side_emit(0, kTimeoutMs, record_acks(alone));
  const auto b = reqs.open_server_side_emit(0, kTimeoutMs, record_acks(unknown));
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  reqs.count_and_publish(*a, publisher());
  reqs.count_and_publish(*b, publisher());
  count(1);             // only this node
  count(std::nullopt);  // the count failed
  EXPECT_EQ(published, 0);
  // Origin is the home loop: the completion runs at once.
  EXPECT_TRUE(alone.done && unknown.done);
  EXPECT_TRUE(alone.error.empty() && alone.strings.empty());
  EXPECT_TRUE(unknown.error.empty());
}

TEST_F(PendingRequestsTest, TimeoutCompletesWithWhatArrived) {
  PendingRequests reqs = make();
  const int64_t before = metrics::requests_timed_out().value();
  Outcome o;
  const auto id = reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(3);
  EXPECT_TRUE(reqs.answer_response(*id, R"({"n":1})"));
  loops.advance(kTimeoutMs / 2);
  EXPECT_FALSE(o.done);
  // The watch counts again meanwhile; nobody left.
  while (!counts.empty())
    count(3);
  loops.advance(kTimeoutMs);
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.loop, kOrigin);
  EXPECT_EQ(o.error, "timeout reached: only 1 responses received out of 2");
  EXPECT_EQ(o.strings, std::vector<std::string>{R"({"n":1})"});
  EXPECT_EQ(metrics::requests_timed_out().value(), before + 1);

  // Other kinds time out with Node's generic message, and a fetch with what it has.
  Outcome f;
  const auto fid = reqs.open_fetch(kOrigin, kTimeoutMs, {}, record_sockets(f));
  ASSERT_TRUE(fid);
  loops.advance(kTimeoutMs + 20);  // the count never came back
  EXPECT_TRUE(f.done);
  EXPECT_TRUE(f.sockets.empty());
  Outcome b;
  const auto bid = reqs.open_broadcast_ack(kOrigin, kTimeoutMs, record_acks(b));
  ASSERT_TRUE(bid);
  loops.advance(kTimeoutMs + 20);
  EXPECT_EQ(b.error, "operation has timed out");
}

TEST_F(PendingRequestsTest, LateAnswersAfterTheEndAreIgnored) {
  PendingRequests reqs = make();
  Outcome o;
  const auto id = reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(2);
  EXPECT_TRUE(reqs.answer_response(*id, ""));  // an ack without argument reads as null
  loops.run();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.strings, std::vector<std::string>{"null"});
  EXPECT_FALSE(reqs.answer_response(*id, "2"));
  EXPECT_FALSE(reqs.answer_sockets("not-ours", {}));
  loops.advance(kTimeoutMs * 2);  // its timer is gone too: no second completion
  loops.run();
  EXPECT_EQ(o.strings.size(), 1u);
}

TEST_F(PendingRequestsTest, AnswersOfAnotherKindAreIgnored) {
  PendingRequests reqs = make();
  Outcome o;
  const auto id = reqs.open_fetch(kOrigin, kTimeoutMs, {}, record_sockets(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(2);
  EXPECT_FALSE(reqs.answer_response(*id, "1"));
  EXPECT_FALSE(reqs.answer_rooms(*id, {"x"}));
  EXPECT_FALSE(reqs.answer_client_count(*id, 1));
  EXPECT_FALSE(reqs.answer_ack(*id, "1"));
  EXPECT_FALSE(reqs.local_done(*id, "", {}));
  EXPECT_TRUE(reqs.contains(*id));
  EXPECT_TRUE(reqs.answer_sockets(*id, {}));
  loops.run();
  EXPECT_TRUE(o.done);
}

TEST_F(PendingRequestsTest, ANodeLeavingLowersWhatIsExpectedAndEndsItWithWhatArrived) {
  PendingRequests reqs = make();
  const int64_t before = metrics::requests_partial().value();
  Outcome o;
  const auto id = reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(3);  // two others
  EXPECT_TRUE(reqs.answer_response(*id, "1"));
  loops.advance(kWatchMs + 20);  // the watch asks again
  ASSERT_EQ(counts.size(), 1u);
  count(2);  // one of them left
  loops.run();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.error, "partial: 1 server(s) left before answering");
  EXPECT_EQ(o.strings, std::vector<std::string>{"1"});
  EXPECT_EQ(metrics::requests_partial().value(), before + 1);
  // Nothing in flight: the watch stops asking.
  loops.advance(kWatchMs * 3);
  EXPECT_TRUE(counts.empty());

  // A fetch ended that way has no error channel: it gets what arrived.
  Outcome f;
  const auto fid = reqs.open_fetch(kOrigin, kTimeoutMs, {}, record_sockets(f));
  ASSERT_TRUE(fid);
  reqs.count_and_publish(*fid, publisher());
  count(2);
  loops.advance(kWatchMs + 20);
  count(1);
  loops.run();
  EXPECT_TRUE(f.done);
}

TEST_F(PendingRequestsTest, BroadcastWithAckWaitsForLocalClientsAndEveryCountedAck) {
  PendingRequests reqs = make();
  Outcome o;
  const auto id = reqs.open_broadcast_ack(kOrigin, kTimeoutMs, record_acks(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(2);
  EXPECT_TRUE(reqs.answer_client_count(*id, 2));  // the other node has two clients
  EXPECT_TRUE(reqs.answer_ack(*id, "1"));
  EXPECT_TRUE(reqs.local_done(*id, "", {"0"}));
  loops.run();
  EXPECT_FALSE(o.done);  // one remote ack missing
  EXPECT_TRUE(reqs.answer_ack(*id, "2"));
  loops.run();
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.error.empty());
  EXPECT_EQ(o.strings, (std::vector<std::string>{"1", "0", "2"}));

  // Not sent to the others (not encodable): the local part decides, its error included.
  Outcome l;
  const auto lid = reqs.open_broadcast_ack(kOrigin, kTimeoutMs, record_acks(l));
  ASSERT_TRUE(lid);
  reqs.expect_none(*lid);
  loops.run();
  EXPECT_FALSE(l.done);
  EXPECT_TRUE(reqs.local_done(*lid, "operation has timed out", {"a"}));
  loops.run();
  ASSERT_TRUE(l.done);
  EXPECT_EQ(l.error, "operation has timed out");
  EXPECT_EQ(l.strings, std::vector<std::string>{"a"});
}

TEST_F(PendingRequestsTest, AllRoomsHaveNoDuplicates) {
  PendingRequests reqs = make();
  Outcome o;
  std::vector<SocketInfo> mine(2);
  mine[0].rooms = {"s1", "a", "b"};
  mine[1].rooms = {"s2", "a"};
  const auto id = reqs.open_all_rooms(kOrigin, kTimeoutMs, std::move(mine), record_rooms(o));
  ASSERT_TRUE(id);
  reqs.count_and_publish(*id, publisher());
  count(2);
  EXPECT_TRUE(reqs.answer_rooms(*id, {"b", "c", "c"}));
  loops.run();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.strings, (std::vector<std::string>{"s1", "a", "b", "s2", "c"}));
}

TEST_F(PendingRequestsTest, OverTheBoundARequestIsRefusedWithAnError) {
  PendingRequests reqs = make(2);
  const int64_t before = metrics::requests_rejected().value();
  Outcome a;
  Outcome b;
  Outcome c;
  Outcome f;
  ASSERT_TRUE(reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(a)));
  ASSERT_TRUE(reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(b)));
  EXPECT_FALSE(reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(c)));
  std::vector<SocketInfo> mine(1);
  mine[0].id = "local";
  EXPECT_FALSE(reqs.open_fetch(kOrigin, kTimeoutMs, std::move(mine), record_sockets(f)));
  EXPECT_EQ(reqs.size(), 2u);
  loops.run();
  ASSERT_TRUE(c.done);
  EXPECT_EQ(c.error, "too many requests in flight");
  ASSERT_TRUE(f.done);  // this node's part, at once
  ASSERT_EQ(f.sockets.size(), 1u);
  EXPECT_EQ(metrics::requests_rejected().value(), before + 2);
  EXPECT_FALSE(a.done || b.done);
  // Room again once one ends.
  loops.advance(kTimeoutMs + 20);
  EXPECT_TRUE(a.done && b.done);
  Outcome d;
  EXPECT_TRUE(reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(d)));
}

TEST_F(PendingRequestsTest, ShutdownCancelsEveryRequestWithoutRunningItsCompletion) {
  PendingRequests reqs = make();
  Outcome a;
  Outcome b;
  const auto ida = reqs.open_server_side_emit(kOrigin, kTimeoutMs, record_acks(a));
  const auto idb = reqs.open_fetch(kOrigin, kTimeoutMs, {}, record_sockets(b));
  ASSERT_TRUE(ida && idb);
  reqs.count_and_publish(*ida, publisher());
  reqs.count_and_publish(*idb, publisher());
  count(2);
  EXPECT_EQ(loops.timers(0).size(), 2u + 1u);  // two timeouts and the watch
  reqs.cancel_all();
  EXPECT_EQ(reqs.size(), 0u);
  EXPECT_EQ(loops.timers(0).size(), 0u);
  count(2);  // a count that was in flight arrives after the end: nothing published
  EXPECT_EQ(published, 1);
  EXPECT_FALSE(reqs.answer_response(*ida, "1"));
  EXPECT_FALSE(reqs.answer_sockets(*idb, {}));
  loops.advance(kTimeoutMs * 2);
  EXPECT_FALSE(a.done || b.done);
}

TEST_F(PendingRequestsTest, ACountArrivingAfterDestructionIsIgnored) {
  Outcome o;
  {
    PendingRequests reqs = make();
    const auto id = reqs.open_fetch(kOrigin, kTimeoutMs, {}, record_sockets(o));
    ASSERT_TRUE(id);
    reqs.count_and_publish(*id, publisher());
  }
  count(3);  // the Redis reply outlived the adapter
  EXPECT_EQ(published, 0);
  loops.advance(kTimeoutMs * 2);
  EXPECT_FALSE(o.done);
}

}  // namespace
}  // namespace sb::adapter
