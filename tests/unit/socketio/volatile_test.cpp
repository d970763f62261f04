// Volatile emits: dropped (and counted) for a receiver whose link is not writable, delivered
// to the others — unicast (socket.volatile_().emit), node-wide broadcasts across loops, and
// socket.volatile_().to(room) whose flag moves to the broadcast.

#include <gtest/gtest.h>

#include <algorithm>

#include "common/metrics.h"
#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

int64_t dropped() {
  return metrics::value_of("sb_socketio_volatile_dropped_total");
}

struct VolatileTest : ::testing::Test {
  FakeLoops loops{2};
  Server io{loops};
  std::vector<TestClient> clients;
  std::vector<Socket*> sockets;

  void SetUp() override {
    io.on_connection([this](Socket& s) {
      sockets.push_back(&s);
      s.join("r");
      s.on("v-self", [&s](const Args&) { s.volatile_().emit("v", 1); });
      s.on("self", [&s](const Args&) { s.emit("n", 1); });
      s.on("v-all", [&s](const Args&) { s.nsp().volatile_().emit("v", 2); });
      s.on("v-room", [&s](const Args&) { s.volatile_().to("r").emit("v", 3); });
    });
    // Four clients: 0 and 2 on loop 0, 1 and 3 on loop 1.
    for (int i = 0; i < 4; ++i) {
      clients.push_back(testing::connect_client(io, i % 2));
      feed(clients.back(), "0");
    }
  }
  size_t got(size_t i, std::string_view packet) const {
    const auto& o = clients[i].out();
    return static_cast<size_t>(std::count(o.begin(), o.end(), packet));
  }
};

TEST_F(VolatileTest, UnicastIsDroppedWhenTheLinkIsNotWritable) {
  const int64_t before = dropped();
  feed(clients[0], R"(2["v-self"])");
  EXPECT_EQ(got(0, R"(2["v",1])"), 1u);
  clients[0].link->writable_ = false;
  feed(clients[0], R"(2["v-self"])");
  EXPECT_EQ(got(0, R"(2["v",1])"), 1u);
  EXPECT_EQ(dropped() - before, 1);
  // The flag applies to one emit only: an ordinary emit still goes out (to be queued).
  feed(clients[0], R"(2["self"])");
  EXPECT_EQ(got(0, R"(2["n",1])"), 1u);
}

TEST_F(VolatileTest, BroadcastSkipsOnlyTheReceiversThatCannotTakeIt) {
  const int64_t before = dropped();
  clients[2].link->writable_ = false;  // loop 0
  clients[3].link->writable_ = false;  // loop 1
  feed(clients[0], R"(2["v-all"])");
  loops.run();
  EXPECT_EQ(got(0, R"(2["v",2])"), 1u);
  EXPECT_EQ(got(1, R"(2["v",2])"), 1u);
  EXPECT_EQ(got(2, R"(2["v",2])"), 0u);
  EXPECT_EQ(got(3, R"(2["v",2])"), 0u);
  EXPECT_EQ(dropped() - before, 2);
}

TEST_F(VolatileTest, NonVolatileBroadcastIgnoresWritable) {
  for (auto& c : clients)
    c.link->writable_ = false;
  const int64_t before = dropped();
  {
    LoopScope scope(0);
    io.emit("n", 5);
  }
  loops.run();
  for (size_t i = 0; i < clients.size(); ++i)
    EXPECT_EQ(got(i, R"(2["n",5])"), 1u) << i;
  EXPECT_EQ(dropped() - before, 0);
}

TEST_F(VolatileTest, SocketVolatileToRoomMovesTheFlagToTheBroadcast) {
  clients[1].link->writable_ = false;
  feed(clients[0], R"(2["v-room"])");
  loops.run();
  EXPECT_EQ(got(0, R"(2["v",3])"), 0u);  // the sender is excluded (socket.to)
  EXPECT_EQ(got(1, R"(2["v",3])"), 0u);  // not writable
  EXPECT_EQ(got(2, R"(2["v",3])"), 1u);
  EXPECT_EQ(got(3, R"(2["v",3])"), 1u);
  // The flag was consumed by to(): the socket's next emit is an ordinary one.
  clients[0].link->writable_ = false;
  feed(clients[0], R"(2["self"])");
  EXPECT_EQ(got(0, R"(2["n",1])"), 1u);
}

TEST_F(VolatileTest, VolatileEmitWithAckStillTimesOut) {
  clients[0].link->writable_ = false;
  std::string error;
  sockets[0]->volatile_().emit_with_ack("q", {}, 100,
                                        [&](std::string_view e, const Args&) { error = e; });
  EXPECT_EQ(clients[0].last().find("\"q\""), std::string::npos);  // not sent
  loops.advance(200);
  EXPECT_EQ(error, "operation has timed out");
}

}  // namespace
}  // namespace sb::socketio
