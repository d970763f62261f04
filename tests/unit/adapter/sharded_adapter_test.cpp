// The sharded Redis adapter (createShardedAdapter's protocol): the envelope byte for byte
// against the capture of the reference document §2, and two Switchboard nodes on a real
// redis-server using sharded pub/sub with dynamic room channels.

#include "adapter/sharded_adapter.h"

#include <gtest/gtest.h>

#include "adapter/sharded_codec.h"
#include "adapter_harness.h"

namespace sb::adapter {
namespace {

using namespace sb::adapter::testing;  // NOLINT(google-build-using-namespace): test helpers

TEST(ShardedCodec, BroadcastMatchesTheNodeCapture) {
  socketio::PacketSource src;
  src.data_json = R"(["chat","hello",{"from":"A"}])";
  socketio::BroadcastOptions o;
  o.rooms = {"room1"};
  std::string out;
  ASSERT_TRUE(sharded::encode_broadcast(out, "0aa336388fa46a45", "/", src, o));
  EXPECT_EQ(
      out,
      R"({"type":3,"data":{"packet":{"type":2,"data":["chat","hello",{"from":"A"}]},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"0aa336388fa46a45","nsp":"/"})");
  Result<sharded::Message> m = sharded::decode(out);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, sharded::MessageType::kBroadcast);
  EXPECT_EQ(m->uid, "0aa336388fa46a45");
  EXPECT_EQ(m->data_json, R"(["chat","hello",{"from":"A"}])");
  EXPECT_EQ(m->opts.rooms, std::vector<std::string>{"room1"});
  EXPECT_EQ(sharded::random_id().size(), 16u);
}

TEST(ShardedCodec, BinaryBroadcastIsMessagePackAndComesBackWithItsAttachment) {
  socketio::PacketSource src;
  src.data_json = R"(["bin",{"_placeholder":true,"num":0}])";
  src.attachments = {{0xde, 0xad}};
  std::string out;
  ASSERT_TRUE(sharded::encode_broadcast(out, "u", "/", src, {}));
  ASSERT_FALSE(out.empty());
  EXPECT_NE(out.front(), '{');
  Result<sharded::Message> m = sharded::decode(out);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data_json, R"(["bin",{"_placeholder":true,"num":0}])");
  ASSERT_EQ(m->attachments.size(), 1u);
  EXPECT_EQ(m->attachments[0], (socketio::Bytes{0xde, 0xad}));
  EXPECT_FALSE(sharded::decode("{\"type\":3,\"data\":{\"packet\":{}}}"));
  EXPECT_FALSE(sharded::decode("\xc1"));
}

int64_t shard_subscribers(uint16_t port, std::string_view channel) {
  redis::testing::BlockingRedis cli(port);
  redis::Reply r = cli.call({"PUBSUB", "SHARDNUMSUB", channel});
  return r.elements.size() == 2 ? r.elements[1].integer : -1;
}

struct ShardedAdapterTest : ::testing::Test {
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
    ASSERT_TRUE(redis.start());
  }
  RedisAdapterOptions options() const {
    RedisAdapterOptions o = test_options(redis.url());
    o.mode = RedisAdapterMode::kSharded;
    return o;
  }
  RedisServer redis;
};

TEST_F(ShardedAdapterTest, RoomChannelsFollowMembershipAndCarryBroadcasts) {
  Node a(options(), joinable);
  Node b(options(), joinable);
  for (Node* n : {&a, &b}) {
    ASSERT_TRUE(wait_until([&] { return n->bus->ready(); }));
    ASSERT_TRUE(wait_until([&] { return n->io->of("/").server_count() == 2; }));
  }
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(1);
  TestClient b2 = b.connect(0);
  a.feed(a1, R"(2["join","r"])");
  b.feed(b1, R"(2["join","r"])");
  b.feed(b2, R"(2["join","r"])");
  // One subscription per node, however many members it has.
  ASSERT_TRUE(wait_until([&] { return shard_subscribers(redis.port(), "socket.io#/#r#") == 2; }));

  a.on(0, [&] { a.io->to("r").emit("hello", 1); });
  EXPECT_TRUE(b.got(b1, R"(2["hello",1])"));
  EXPECT_TRUE(b.got(b2, R"(2["hello",1])"));

  // B's members leave: B drops the room channel (its last member), A keeps it.
  b.feed(b1, R"(2["join","other"])");
  for (int loop : {0, 1}) {
    b.on(loop,
         [&] { b.io->of("/").for_each_local(loop, [&](socketio::Socket& s) { s.leave("r"); }); });
  }
  EXPECT_TRUE(wait_until([&] { return shard_subscribers(redis.port(), "socket.io#/#r#") == 1; }));

  // Cluster-wide requests work on the sharded protocol too.
  std::promise<std::vector<std::string>> rooms;
  a.on(0, [&] {
    a.io->of("/").all_rooms([&](const std::vector<std::string>& r) { rooms.set_value(r); });
  });
  auto fut = rooms.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  std::vector<std::string> r = fut.get();
  EXPECT_NE(std::find(r.begin(), r.end(), "other"), r.end());
}

}  // namespace
}  // namespace sb::adapter
