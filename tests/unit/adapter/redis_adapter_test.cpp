// The classic Redis adapter end to end: a real redis-server on a free port and two or three
// "nodes" in this process, each its own net::LoopGroup (two loops), Socket.IO server and Redis
// connections. Clients are the Socket.IO test links (packets in, packets recorded), driven on
// their loop threads. Every wait polls a condition with a generous bound.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapter/classic_adapter.h"
#include "adapter/redis_adapter.h"
#include "adapter/redis_bus.h"
#include "adapter_harness.h"
#include "common/metrics.h"
#include "net/loop_group.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::adapter {
namespace {

using namespace sb::adapter::testing;  // NOLINT(google-build-using-namespace): test helpers

struct RedisAdapterTest : ::testing::Test {
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
    ASSERT_TRUE(redis.start());
  }
  /// Both nodes ready and counting each other.
  static void settle(std::initializer_list<Node*> nodes) {
    for (Node* n : nodes) {
      ASSERT_TRUE(wait_until([&] { return n->bus->ready(); }));
      ASSERT_TRUE(wait_until([&] { return n->adapter().server_count() == nodes.size(); }));
    }
  }
  RedisServer redis;
};

TEST_F(RedisAdapterTest, RoomBroadcastReachesTheOtherNodeOnceAndNotTheSenderTwice) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(1);
  TestClient b1 = b.connect(0);
  TestClient b2 = b.connect(1);
  a.feed(a1, R"(2["join","room1"])");
  b.feed(b1, R"(2["join","room1"])");

  a.on(0, [&] {
    a.io->to("room1").emit("chat", "hello", socketio::json::object({{"from", "A"}}));
  });
  const std::string want = R"(2["chat","hello",{"from":"A"}])";
  EXPECT_TRUE(b.got(b1, want));
  EXPECT_TRUE(a.got(a1, want));
  // A marker broadcast after it: once it arrived, the first one can no longer be in flight.
  a.on(0, [&] { a.io->emit("marker"); });
  EXPECT_TRUE(b.got(b2, R"(2["marker"])"));
  EXPECT_TRUE(a.got(a1, R"(2["marker"])"));
  EXPECT_EQ(b.count(b2, want), 0u);  // not in the room
  EXPECT_EQ(a.count(a1, want), 1u);  // its own message came back and was dropped by uid
  EXPECT_EQ(b.count(b1, want), 1u);
}

TEST_F(RedisAdapterTest, ExceptVolatileAndBinaryTravel) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient b1 = b.connect(0);
  TestClient b2 = b.connect(1);
  b.feed(b2, R"(2["join","muted"])");
  a.on(1, [&] {
    a.io->except("muted").volatile_().emit("bin", Json::binary(socketio::Bytes{1, 2, 3}));
  });
  EXPECT_TRUE(b.got(b1, R"(51-["bin",{"_placeholder":true,"num":0}])"));
  EXPECT_TRUE(wait_until([&] { return b.out(b1).size() >= 3; }));
  EXPECT_EQ(b.out(b1)[2].substr(0, 1), "b");  // the attachment followed
  a.on(0, [&] { a.io->emit("marker"); });
  EXPECT_TRUE(b.got(b2, R"(2["marker"])"));
  EXPECT_EQ(b.count(b2, R"(51-["bin",{"_placeholder":true,"num":0}])"), 0u);
}

TEST_F(RedisAdapterTest, AloneNodeSkipsPublishingAndANewNodeIsNeverMissed) {
  Node a(test_options(redis.url()), joinable);
  ASSERT_TRUE(wait_until([&] { return a.bus->ready() && a.adapter().alone(); }));
  const int64_t skipped = metrics::value_of("sb_adapter_publish_skipped_total");
  a.on(0, [&] { a.io->emit("nobody-else"); });
  EXPECT_GT(metrics::value_of("sb_adapter_publish_skipped_total"), skipped);

  // A second node: by the time it reports ready, A publishes again (hello + the rule).
  Node b(test_options(redis.url()), joinable);
  ASSERT_TRUE(wait_until([&] { return b.bus->ready(); }));
  TestClient b1 = b.connect(0);
  EXPECT_FALSE(a.adapter().alone());
  a.on(0, [&] { a.io->emit("now-two"); });
  EXPECT_TRUE(b.got(b1, R"(2["now-two"])"));
}

TEST_F(RedisAdapterTest, FetchSocketsReturnsRemoteSocketsYouCanReach) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(1);
  a.feed(a1, R"(2["join","r"])");
  b.feed(b1, R"(2["join","r"])");

  std::promise<std::vector<socketio::RemoteSocket>> found;
  a.on(1, [&] {
    a.io->in("r").fetch_remote_sockets(
        [&](std::vector<socketio::RemoteSocket> v) { found.set_value(std::move(v)); });
  });
  auto fut = found.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  std::vector<socketio::RemoteSocket> socks = fut.get();
  ASSERT_EQ(socks.size(), 2u);
  auto remote = std::find_if(socks.begin(), socks.end(),
                             [](const socketio::RemoteSocket& s) { return s.info().remote(); });
  ASSERT_NE(remote, socks.end());
  EXPECT_NE(std::find(remote->rooms().begin(), remote->rooms().end(), "r"), remote->rooms().end());

  // Emit to it, make it join a room, then disconnect it — all from node A.
  a.on(0, [&] { remote->emit("direct", 1); });
  EXPECT_TRUE(b.got(b1, R"(2["direct",1])"));
  a.on(0, [&] { remote->join({"vip"}); });
  EXPECT_TRUE(wait_until([&] {
    return b.on(1, [&] {
      socketio::Socket* s = b.io->of("/").find(1, remote->id());
      return s != nullptr && s->in("vip");
    });
  }));
  a.on(0, [&] { remote->disconnect(); });
  EXPECT_TRUE(b.got(b1, "1"));
}

TEST_F(RedisAdapterTest, SocketsJoinAndDisconnectSocketsApplyEverywhere) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(0);
  a.on(0, [&] { a.io->local().sockets_join({"here"}); });  // this node only
  a.on(0, [&] { socketio::BroadcastOperator(a.io->of("/")).sockets_join({"everyone"}); });
  auto in = [](Node& n, std::string_view room) {
    return n.on(0, [&] {
      bool found = false;
      n.io->of("/").for_each_local(0, [&](socketio::Socket& s) { found = s.in(room); });
      return found;
    });
  };
  EXPECT_TRUE(wait_until([&] { return in(b, "everyone"); }));
  EXPECT_TRUE(in(a, "everyone"));  // applied locally at once, not on its echo
  EXPECT_TRUE(in(a, "here"));
  EXPECT_FALSE(in(b, "here"));
  a.on(0, [&] { socketio::BroadcastOperator(a.io->of("/")).in("everyone").disconnect_sockets(); });
  EXPECT_TRUE(b.got(b1, "1"));
  EXPECT_TRUE(a.got(a1, "1"));
}

TEST_F(RedisAdapterTest, ServerSideEmitWithAndWithoutAck) {
  std::atomic<int> heard{0};
  auto setup = [&](socketio::Server& io) {
    io.of("/").on_server_side("ping",
                              [&](const socketio::Args& args, const socketio::ServerSideAck& ack) {
                                if (args.str(0) == "hello") ++heard;
                                ack(socketio::json::object({{"pong", args.str(0)}}));
                              });
  };
  Node a(test_options(redis.url()), setup);
  Node b(test_options(redis.url()), setup);
  Node c(test_options(redis.url()), setup);
  settle({&a, &b, &c});
  a.on(0, [&] { a.io->of("/").server_side_emit("ping", "hello"); });
  EXPECT_TRUE(wait_until([&] { return heard.load() == 2; }));  // b and c, not a

  std::promise<std::pair<std::string, std::vector<std::string>>> res;
  a.on(1, [&] {
    const Json args[] = {Json("q")};
    a.io->of("/").server_side_emit_with_ack("ping", args,
                                            [&](std::string_view err, std::vector<std::string> r) {
                                              res.set_value({std::string(err), std::move(r)});
                                            });
  });
  auto fut = res.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto [err, responses] = fut.get();
  EXPECT_EQ(err, "");
  EXPECT_EQ(responses, (std::vector<std::string>{R"({"pong":"q"})", R"({"pong":"q"})"}));
}

TEST_F(RedisAdapterTest, AllRoomsAndServerCount) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(1);
  a.feed(a1, R"(2["join","ra"])");
  b.feed(b1, R"(2["join","rb"])");
  std::promise<std::vector<std::string>> rooms;
  a.on(0, [&] {
    a.io->of("/").all_rooms([&](const std::vector<std::string>& r) { rooms.set_value(r); });
  });
  auto fut = rooms.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  std::vector<std::string> r = fut.get();
  EXPECT_NE(std::find(r.begin(), r.end(), "ra"), r.end());
  EXPECT_NE(std::find(r.begin(), r.end(), "rb"), r.end());
  EXPECT_EQ(r.size(), 4u);  // two socket-id rooms too

  std::promise<size_t> count;
  a.on(1, [&] { a.io->of("/").fetch_server_count([&](size_t n) { count.set_value(n); }); });
  EXPECT_EQ(count.get_future().get(), 2u);
}

TEST_F(RedisAdapterTest, BroadcastWithAcksCollectsEveryNodesClients) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(0);
  TestClient b2 = b.connect(1);
  std::promise<std::pair<std::string, std::vector<std::string>>> res;
  a.on(0, [&] {
    const Json args[] = {Json("question")};
    a.io->timeout(5000).emit_with_ack("ask", args,
                                      [&](std::string_view e, std::vector<std::string> r) {
                                        res.set_value({std::string(e), std::move(r)});
                                      });
  });
  // Each client answers the id it was given: `2<id>["ask","question"]` → `3<id>[<answer>]`.
  auto answer = [](Node& n, const TestClient& c, const std::string& reply) {
    std::string pkt;
    ASSERT_TRUE(wait_until([&] {
      for (const auto& p : n.out(c))
        if (p.find("[\"ask\"") != std::string::npos) pkt = p;
      return !pkt.empty();
    }));
    const std::string id = pkt.substr(1, pkt.find('[') - 1);
    n.feed(c, "3" + id + "[" + reply + "]");
  };
  answer(a, a1, "\"from-a\"");
  answer(b, b1, "\"from-b1\"");
  answer(b, b2, "{\"n\":2}");
  auto fut = res.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto [err, r] = fut.get();
  EXPECT_EQ(err, "");
  std::sort(r.begin(), r.end());
  EXPECT_EQ(r, (std::vector<std::string>{R"("from-a")", R"("from-b1")", R"({"n":2})"}));
}

TEST_F(RedisAdapterTest, ANodeVanishingMidRequestEndsItWithWhatArrived) {
  // B answers, C listens but never answers; then C dies (its connections close) — once it has
  // the request, so that A counted it: stopped earlier, C would not be waited for at all and
  // the request would end complete (seen under TSan, where the emit lagged behind the stop).
  std::atomic<bool> c_has_it{false};
  auto setup = [&c_has_it](bool answers) {
    return [answers, &c_has_it](socketio::Server& io) {
      io.of("/").on_server_side(
          "slow", [answers, &c_has_it](const socketio::Args&, const socketio::ServerSideAck& ack) {
            if (answers) {
              ack("b");
            } else {
              c_has_it = true;
            }
          });
    };
  };
  RedisAdapterOptions o = test_options(redis.url());
  o.requests_timeout_ms = 20000;
  Node a(o, setup(true));
  Node b(o, setup(true));
  auto c = std::make_unique<Node>(o, setup(false));
  settle({&a, &b, c.get()});
  std::promise<std::pair<std::string, std::vector<std::string>>> res;
  a.on(0, [&] {
    const Json args[] = {Json("x")};
    a.io->of("/").server_side_emit_with_ack("slow", args,
                                            [&](std::string_view e, std::vector<std::string> r) {
                                              res.set_value({std::string(e), std::move(r)});
                                            });
  });
  for (int i = 0; i < 10000 && !c_has_it; ++i)
    std::this_thread::sleep_for(1ms);  // bounded: 10 s
  ASSERT_TRUE(c_has_it) << "C never received the request";
  const auto start = std::chrono::steady_clock::now();
  c->bus->stop();
  auto fut = res.get_future();
  ASSERT_EQ(fut.wait_for(15s), std::future_status::ready);
  const auto took = std::chrono::steady_clock::now() - start;
  auto [err, r] = fut.get();
  EXPECT_NE(err.find("partial"), std::string::npos) << err;
  EXPECT_EQ(r, std::vector<std::string>{R"("b")"});
  EXPECT_LT(took, 10s);  // well before the 20 s timeout
  c.reset();
}

TEST_F(RedisAdapterTest, ARedisOutageKeepsLocalDeliveryAndTheClusterComesBack) {
  Node a(test_options(redis.url()), joinable);
  Node b(test_options(redis.url()), joinable);
  settle({&a, &b});
  TestClient a1 = a.connect(0);
  TestClient a2 = a.connect(1);
  TestClient b1 = b.connect(0);
  redis.kill();
  ASSERT_TRUE(wait_until([&] { return !a.bus->connected() && !b.bus->connected(); }));
  // Local work never waits for Redis: broadcasts and socketsJoin apply on this node now.
  a.on(0, [&] { a.io->emit("during-outage"); });
  EXPECT_TRUE(a.got(a2, R"(2["during-outage"])"));
  a.on(0, [&] { socketio::BroadcastOperator(a.io->of("/")).sockets_join({"kept"}); });
  EXPECT_TRUE(wait_until([&] {
    return a.on(1, [&] {
      bool in = false;
      a.io->of("/").for_each_local(1, [&](socketio::Socket& s) { in = s.in("kept"); });
      return in;
    });
  }));
  ASSERT_TRUE(redis.restart());
  // Both reconnect and restore their subscriptions by themselves.
  ASSERT_TRUE(wait_until([&] { return a.bus->ready() && b.bus->ready(); }));
  ASSERT_TRUE(wait_until([&] { return a.adapter().server_count() == 2; }));
  ASSERT_TRUE(wait_until([&] {
    // Both subscriptions are back once each node hears the other's broadcast.
    a.on(0, [&] { a.io->emit("after"); });
    return b.count(b1, R"(2["after"])") > 0;
  }));
  b.on(0, [&] { b.io->emit("back"); });
  EXPECT_TRUE(a.got(a1, R"(2["back"])"));
}

TEST_F(RedisAdapterTest, UndecodableMessagesAreDroppedAndCounted) {
  Node a(test_options(redis.url()), joinable);
  ASSERT_TRUE(wait_until([&] { return a.bus->ready(); }));
  TestClient a1 = a.connect(0);
  const int64_t before = metrics::value_of("sb_adapter_decode_errors_total");
  redis::testing::BlockingRedis cli(redis.port());
  ASSERT_TRUE(cli.ok());
  cli.call({"PUBLISH", "socket.io#/#", "\x93\xc1garbage"});
  cli.call({"PUBLISH", "socket.io-request#/#", "{\"type\":"});
  cli.call({"PUBLISH", "socket.io-response#/#", "\x01"});
  EXPECT_TRUE(wait_until(
      [&] { return metrics::value_of("sb_adapter_decode_errors_total") >= before + 3; }));
  // And the node still works: an emitter-style message is delivered.
  std::string msg;
  socketio::PacketSource src;
  src.data_json = R"(["from-emitter",true])";
  ASSERT_TRUE(classic::encode_broadcast(msg, "emitter", "/", src, {}));
  cli.call({"PUBLISH", "socket.io#/#", msg});
  EXPECT_TRUE(a.got(a1, R"(2["from-emitter",true])"));
}

}  // namespace
}  // namespace sb::adapter
