// Rooms, the in-memory adapter's selection (rooms, except, dedupe) across loops, serialize-once
// delivery, broadcast acks, and the node-wide helpers (fetchSockets, socketsJoin, …).

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/in_memory_adapter.h"
#include "socketio/server.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

struct BroadcastTest : ::testing::Test {
  FakeLoops loops{2};
  Server io{loops};
  std::vector<TestClient> clients;
  std::vector<Socket*> sockets;

  void SetUp() override {
    io.on_connection([this](Socket& s) {
      sockets.push_back(&s);
      s.on("join", [&s](const Args& a) { s.join(a.str(0)); });
      s.on("chat", [&s](const Args& a) {
        s.nsp().to(a.str(0, "room")).emit("chat", json::object({{"text", a.str(0, "text")}}));
      });
    });
    // Six clients, alternating loops: 0,2,4 on loop 0; 1,3,5 on loop 1.
    for (int i = 0; i < 6; ++i) {
      clients.push_back(testing::connect_client(io, i % 2));
      feed(clients.back(), "0");
    }
  }
  size_t got(size_t i, std::string_view packet) const {
    const auto& o = clients[i].out();
    return static_cast<size_t>(std::count(o.begin(), o.end(), packet));
  }
};

TEST_F(BroadcastTest, RoomBroadcastReachesMembersOnEveryLoopOnce) {
  for (size_t i : {0, 1, 3})
    feed(clients[i], "2[\"join\",\"a\"]");
  for (size_t i : {1, 4})
    feed(clients[i], "2[\"join\",\"b\"]");
  feed(clients[2], "2[\"chat\",{\"room\":\"a\",\"text\":\"hi\"}]");
  // The sender's own loop is served at once; the other loop by a posted task.
  EXPECT_EQ(got(0, "2[\"chat\",{\"text\":\"hi\"}]"), 1u);
  EXPECT_EQ(got(1, "2[\"chat\",{\"text\":\"hi\"}]"), 0u);
  EXPECT_EQ(loops.pending(1), 1u);
  loops.run();
  const std::string p = "2[\"chat\",{\"text\":\"hi\"}]";
  EXPECT_EQ(got(0, p), 1u);
  EXPECT_EQ(got(1, p), 1u);
  EXPECT_EQ(got(3, p), 1u);
  EXPECT_EQ(got(2, p), 0u);  // not a member (io.to includes the sender only if a member)
  EXPECT_EQ(got(4, p), 0u);
  EXPECT_EQ(got(5, p), 0u);

  // Several rooms: a socket in both gets it once.
  {
    LoopScope scope(0);
    io.to("a").to("b").emit("x");
  }
  loops.run();
  for (size_t i : {0, 1, 3, 4})
    EXPECT_EQ(got(i, "2[\"x\"]"), 1u) << i;
  for (size_t i : {2, 5})
    EXPECT_EQ(got(i, "2[\"x\"]"), 0u) << i;
}

TEST_F(BroadcastTest, ExceptAndSocketBroadcastSkipTheSender) {
  for (size_t i : {0, 1, 2, 3})
    feed(clients[i], "2[\"join\",\"a\"]");
  feed(clients[3], "2[\"join\",\"muted\"]");
  {
    LoopScope scope(0);
    io.to("a").except("muted").emit("m", 1);
    sockets[0]->to("a").emit("n");  // everyone in "a" but socket 0
    io.except("a").emit("outside");
  }
  loops.run();
  for (size_t i : {0, 1, 2})
    EXPECT_EQ(got(i, "2[\"m\",1]"), 1u) << i;
  EXPECT_EQ(got(3, "2[\"m\",1]"), 0u);
  EXPECT_EQ(got(0, "2[\"n\"]"), 0u);
  for (size_t i : {1, 2, 3})
    EXPECT_EQ(got(i, "2[\"n\"]"), 1u) << i;
  for (size_t i : {4, 5})
    EXPECT_EQ(got(i, "2[\"outside\"]"), 1u) << i;
  for (size_t i : {0, 1, 2, 3})
    EXPECT_EQ(got(i, "2[\"outside\"]"), 0u) << i;
}

TEST_F(BroadcastTest, ToASocketIdReachesThatSocket) {
  {
    LoopScope scope(0);
    io.to(sockets[5]->id()).emit("direct");
  }
  loops.run();
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(got(i, "2[\"direct\"]"), i == 5 ? 1u : 0u) << i;
}

TEST_F(BroadcastTest, EveryReceiverSharesOneEncodedPacket) {
  {
    LoopScope scope(1);
    io.emit("all", json::array({1, 2}), Json::binary(std::vector<uint8_t>{1, 2, 3}));
  }
  loops.run();
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(got(i, "51-[\"all\",[1,2],{\"_placeholder\":true,\"num\":0}]"), 1u);
    EXPECT_EQ(got(i, "bAQID"), 1u);  // the attachment, polling form
    EXPECT_EQ(clients[i].link->shared_count, 2u);
  }
}

TEST_F(BroadcastTest, BroadcastFromOutsideTheLoopsIsPostedToEach) {
  io.emit("tick");  // no loop scope: e.g. the main thread
  EXPECT_EQ(got(0, "2[\"tick\"]"), 0u);
  loops.run();
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(got(i, "2[\"tick\"]"), 1u);
}

TEST_F(BroadcastTest, DisconnectedSocketsLeaveTheirRooms) {
  for (size_t i : {0, 2})
    feed(clients[i], "2[\"join\",\"a\"]");
  auto& adapter = static_cast<InMemoryAdapter&>(io.of("/").adapter());
  EXPECT_EQ(adapter.room_size(0, "a"), 2u);
  feed(clients[2], "1");
  EXPECT_EQ(adapter.room_size(0, "a"), 1u);
  sockets[0]->leave("a");
  EXPECT_EQ(adapter.room_size(0, "a"), 0u);
  EXPECT_EQ(adapter.room_size(0, sockets[0]->id()), 1u);
}

TEST_F(BroadcastTest, AcksFromEveryLoopAreCollected) {
  for (size_t i : {0, 1, 3})
    feed(clients[i], "2[\"join\",\"a\"]");
  std::string err = "unset";
  std::vector<std::string> responses;
  {
    LoopScope scope(0);
    io.to("a").timeout(1000).emit_with_ack("q", {}, [&](std::string_view e, auto r) {
      err = e;
      responses = std::move(r);
    });
  }
  loops.run();
  EXPECT_EQ(got(0, "20[\"q\"]"), 1u);
  EXPECT_EQ(got(3, "20[\"q\"]"), 1u);
  feed(clients[1], "30[\"one\"]");
  feed(clients[0], "30[0]");
  loops.run();
  EXPECT_EQ(err, "unset");
  feed(clients[3], "30[{\"k\":3},\"ignored\"]");
  loops.run();
  EXPECT_EQ(err, "");
  std::sort(responses.begin(), responses.end());
  EXPECT_EQ(responses, (std::vector<std::string>{"\"one\"", "0", "{\"k\":3}"}));
}

TEST_F(BroadcastTest, AckTimeoutGivesPartialResponses) {
  std::string err;
  std::vector<std::string> responses;
  {
    LoopScope scope(1);
    io.timeout(500).emit_with_ack("q", {}, [&](std::string_view e, auto r) {
      err = e;
      responses = std::move(r);
    });
  }
  loops.run();
  feed(clients[4], "30[true]");
  loops.run();
  loops.advance(600);
  EXPECT_EQ(err, "operation has timed out");
  EXPECT_EQ(responses, std::vector<std::string>{"true"});
}

TEST_F(BroadcastTest, AckWithNoReceiverCompletesAtOnce) {
  bool called = false;
  {
    LoopScope scope(0);
    io.to("nobody").emit_with_ack(
        "q", {}, [&](std::string_view e, auto r) { called = e.empty() && r.empty(); });
  }
  loops.run();
  EXPECT_TRUE(called);
}

TEST_F(BroadcastTest, FetchJoinLeaveDisconnectAcrossLoops) {
  for (size_t i : {0, 1})
    feed(clients[i], "2[\"join\",\"a\"]");
  {
    LoopScope scope(0);
    io.in("a").sockets_join({"b"});
  }
  loops.run();
  std::vector<SocketInfo> found;
  {
    LoopScope scope(1);
    io.in("b").fetch_sockets([&](std::vector<SocketInfo> v) { found = std::move(v); });
  }
  loops.run();
  ASSERT_EQ(found.size(), 2u);
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (auto& f : found)
    ids.push_back(f.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want{std::string(sockets[0]->id()), std::string(sockets[1]->id())};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);

  std::optional<std::vector<std::string>> rooms;
  {
    LoopScope scope(0);
    io.of("/").adapter().socket_rooms(std::string(sockets[1]->id()),
                                      [&](auto r) { rooms = std::move(r); });
  }
  loops.run();
  ASSERT_TRUE(rooms);
  EXPECT_EQ(rooms->size(), 3u);  // own id, a, b

  {
    LoopScope scope(0);
    io.in("a").sockets_leave({"b"});
    io.in("a").disconnect_sockets();
  }
  loops.run();
  EXPECT_EQ(clients[0].last(), "1");
  EXPECT_EQ(clients[1].last(), "1");
  std::vector<std::string> left;
  {
    LoopScope scope(0);
    io.of("/").adapter().sockets({}, [&](std::vector<std::string> v) { left = std::move(v); });
  }
  loops.run();
  EXPECT_EQ(left.size(), 4u);
}

}  // namespace
}  // namespace sb::socketio
