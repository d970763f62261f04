// The sharded Redis adapter over a real Redis Cluster: three masters started by this suite
// (redis-server --cluster-enabled yes, joined with redis-cli --cluster create), two Switchboard
// "nodes" in this process, each pointed at a different master. The bus finds out by itself that
// it talks to a cluster (INFO cluster); room channels hash to different masters; a slot moved
// under live subscriptions (resharding) and a master killed and restarted are survived.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "adapter/sharded_adapter.h"
#include "adapter_harness.h"
#include "redis/cluster_client.h"

namespace sb::adapter {
namespace {

using namespace sb::adapter::testing;  // NOLINT(google-build-using-namespace): test helpers
using redis::Reply;
using redis::testing::BlockingRedis;

// A port p such that p and p + 10000 (its cluster bus) are both free.
uint16_t free_cluster_port() {
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 200; ++i) {
    auto p = static_cast<uint16_t>(20000 + rng() % 10000);
    auto bindable = [](uint16_t port) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port);
      const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      ::close(fd);
      return ok;
    };
    if (bindable(p) && bindable(static_cast<uint16_t>(p + 10000))) return p;
  }
  return 0;
}

std::string conf_path(uint16_t port) {
  return "/tmp/sb-sharded-cluster-" + std::to_string(port) + ".conf";
}

int64_t shard_subscribers(uint16_t port, std::string_view channel) {
  BlockingRedis cli(port);
  Reply r = cli.call({"PUBSUB", "SHARDNUMSUB", channel});
  return r.elements.size() == 2 ? r.elements[1].integer : -1;
}

class ShardedClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!RedisServer::available() || ::access("/usr/bin/redis-cli", X_OK) != 0) return;
    servers = new std::vector<std::unique_ptr<RedisServer>>();
    std::string create = "timeout 60 /usr/bin/redis-cli --cluster create";
    for (int i = 0; i < 3; ++i) {
      const uint16_t port = free_cluster_port();
      std::remove(conf_path(port).c_str());
      auto s = std::make_unique<RedisServer>();
      // Partial coverage allowed: with a master down, the others keep serving their slots.
      if (!s->start({"--cluster-enabled", "yes", "--cluster-config-file", conf_path(port),
                     "--cluster-node-timeout", "5000", "--cluster-require-full-coverage", "no"},
                    port)) {
        return;
      }
      create += " 127.0.0.1:" + std::to_string(port);
      servers->push_back(std::move(s));
    }
    create += " --cluster-replicas 0 --cluster-yes >/dev/null 2>&1";
    if (std::system(create.c_str()) != 0) return;
    ready = wait_until([] { return cluster_ok(); }, std::chrono::milliseconds(30000));
  }
  static void TearDownTestSuite() {
    if (servers == nullptr) return;
    for (auto& s : *servers) {
      s->kill(SIGTERM);
      std::remove(conf_path(s->port()).c_str());
    }
    delete servers;
    servers = nullptr;
  }
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
    ASSERT_TRUE(ready) << "could not start a 3-master Redis Cluster";
  }

  static bool cluster_ok() {
    for (auto& n : *servers) {
      BlockingRedis b(n->port());
      if (b.call({"CLUSTER", "INFO"}).str.find("cluster_state:ok") == std::string::npos) {
        return false;
      }
    }
    return true;
  }
  static RedisAdapterOptions options(size_t master) {
    RedisAdapterOptions o = test_options((*servers)[master]->url());
    o.mode = RedisAdapterMode::kSharded;
    return o;
  }
  static uint16_t port(size_t i) { return (*servers)[i]->port(); }
  /// Index of the master owning `slot`, per CLUSTER SLOTS of `asked`.
  static int owner_of(uint16_t slot, size_t asked = 0) {
    BlockingRedis b(port(asked));
    Reply r = b.call({"CLUSTER", "SLOTS"});
    for (auto& range : r.elements) {
      if (range.elements.size() < 3) continue;
      if (slot < range.elements[0].integer || slot > range.elements[1].integer) continue;
      const auto p = static_cast<uint16_t>(range.elements[2].elements[1].integer);
      for (size_t i = 0; i < servers->size(); ++i) {
        if (port(i) == p) return static_cast<int>(i);
      }
    }
    return -1;
  }
  static int channel_owner(std::string_view channel) { return owner_of(redis::key_slot(channel)); }
  /// One room per master: rooms[i]'s channel hashes to a slot of master i.
  static std::vector<std::string> room_per_master() {
    std::vector<std::string> rooms(servers->size());
    size_t found = 0;
    for (int i = 0; i < 10000 && found < rooms.size(); ++i) {
      std::string room = "room-" + std::to_string(i);
      const int o = channel_owner("socket.io#/#" + room + "#");
      if (o >= 0 && rooms[static_cast<size_t>(o)].empty()) {
        rooms[static_cast<size_t>(o)] = room;
        ++found;
      }
    }
    return rooms;
  }

  /// Moves an empty slot between masters, as redis-cli --cluster reshard does (no keys to
  /// MIGRATE): IMPORTING, MIGRATING, then NODE on every master.
  static bool move_slot(uint16_t slot, size_t from, size_t to) {
    BlockingRedis a(port(from));
    BlockingRedis b(port(to));
    const std::string id_a = a.call({"CLUSTER", "MYID"}).str;
    const std::string id_b = b.call({"CLUSTER", "MYID"}).str;
    const std::string s = std::to_string(slot);
    if (!b.call({"CLUSTER", "SETSLOT", s, "IMPORTING", id_a}).is("OK")) return false;
    if (!a.call({"CLUSTER", "SETSLOT", s, "MIGRATING", id_b}).is("OK")) return false;
    for (size_t i = 0; i < servers->size(); ++i) {
      BlockingRedis c(port(i));
      if (!c.call({"CLUSTER", "SETSLOT", s, "NODE", id_b}).is("OK")) return false;
    }
    return true;
  }

  static std::vector<std::unique_ptr<RedisServer>>* servers;
  static bool ready;
};
std::vector<std::unique_ptr<RedisServer>>* ShardedClusterTest::servers = nullptr;
bool ShardedClusterTest::ready = false;

bool formed(Node& a, Node& b) {
  for (Node* n : {&a, &b}) {
    if (!wait_until([&] { return n->bus->ready(); })) return false;
    if (!wait_until([&] { return n->io->of("/").server_count() == 2; })) return false;
  }
  return true;
}

// A broadcast to `room`, then a fence on the same channel: once the fence is there, a duplicate
// of the first would have arrived before it (one channel, one subscriber, in order).
void expect_once(Node& from, Node& to, const TestClient& member, const std::string& room,
                 int value) {
  from.on(0, [&] { from.io->to(room).emit("hello", value); });
  from.on(1, [&] { from.io->to(room).emit("fence", value); });
  const std::string hello = R"(2["hello",)" + std::to_string(value) + "]";
  const std::string fence = R"(2["fence",)" + std::to_string(value) + "]";
  ASSERT_TRUE(to.got(member, fence)) << room;
  EXPECT_EQ(to.count(member, hello), 1u) << room;
}

TEST_F(ShardedClusterTest, TwoNodesOnDifferentMastersShareRoomsOnEveryMaster) {
  Node a(options(0), joinable);
  Node b(options(1), joinable);
  ASSERT_TRUE(formed(a, b));
  EXPECT_TRUE(a.on(0, [&] { return a.bus->cluster() != nullptr; }));
  EXPECT_TRUE(b.on(0, [&] { return b.bus->cluster() != nullptr; }));

  const std::vector<std::string> rooms = room_per_master();
  ASSERT_EQ(std::set<std::string>(rooms.begin(), rooms.end()).size(), 3u);
  TestClient a1 = a.connect(0);
  TestClient b1 = b.connect(1);
  TestClient b2 = b.connect(0);
  for (const std::string& r : rooms) {
    for (auto [n, c] : {std::pair{&a, &a1}, std::pair{&b, &b1}, std::pair{&b, &b2}})
      n->feed(*c, R"(2["join",")" + r + R"("])");
  }
  // Each room's channel is subscribed once per node, at the master owning its slot.
  for (size_t m = 0; m < rooms.size(); ++m) {
    const std::string channel = "socket.io#/#" + rooms[m] + "#";
    ASSERT_TRUE(wait_until([&] { return shard_subscribers(port(m), channel) == 2; })) << channel;
  }
  int v = 0;
  for (const std::string& r : rooms) {
    expect_once(a, b, b1, r, ++v);
    expect_once(a, b, b2, r, ++v);
    expect_once(b, a, a1, r, ++v);
  }
  // The main channel (everyone) and requests: fetchSockets sees both nodes.
  a.on(0, [&] { a.io->emit("all", 7); });
  EXPECT_TRUE(b.got(b1, R"(2["all",7])"));
  std::promise<size_t> fetched;
  b.on(1, [&] {
    b.io->of("/").adapter().fetch_sockets(
        {}, [&](const std::vector<socketio::SocketInfo>& s) { fetched.set_value(s.size()); });
  });
  auto f = fetched.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), 3u);
}

TEST_F(ShardedClusterTest, SubscriptionsFollowAResharding) {
  Node a(options(0), joinable);
  Node b(options(2), joinable);
  ASSERT_TRUE(formed(a, b));
  const std::string room = room_per_master()[1];
  const std::string channel = "socket.io#/#" + room + "#";
  const uint16_t slot = redis::key_slot(channel);
  TestClient b1 = b.connect(1);
  b.feed(b1, R"(2["join",")" + room + R"("])");
  ASSERT_TRUE(wait_until([&] { return shard_subscribers(port(1), channel) == 1; }));
  expect_once(a, b, b1, room, 1);

  // Master 1 gives the slot to master 2: it drops the shard subscription (an unasked
  // sunsubscribe); B's next slot map places it at master 2; A's next SPUBLISH is MOVED there.
  ASSERT_TRUE(move_slot(slot, 1, 2));
  ASSERT_TRUE(wait_until([&] { return shard_subscribers(port(2), channel) == 1; }));
  EXPECT_EQ(shard_subscribers(port(1), channel), 0);
  expect_once(a, b, b1, room, 2);
  expect_once(a, b, b1, room, 3);

  ASSERT_TRUE(move_slot(slot, 2, 1));  // back, for the other tests
  ASSERT_TRUE(wait_until([&] { return shard_subscribers(port(1), channel) == 1; }));
  expect_once(a, b, b1, room, 4);
}

TEST_F(ShardedClusterTest, AMasterGoingAwayAndComingBackIsSurvived) {
  const std::vector<std::string> rooms = room_per_master();
  const int main_owner = channel_owner("socket.io#/#");
  ASSERT_GE(main_owner, 0);
  // The victim owns a room's channel but not the main channel; the nodes use other seeds.
  const size_t victim = (static_cast<size_t>(main_owner) + 1) % 3;
  const size_t other = (static_cast<size_t>(main_owner) + 2) % 3;
  Node a(options(static_cast<size_t>(main_owner)), joinable);
  Node b(options(other), joinable);
  ASSERT_TRUE(formed(a, b));
  TestClient b1 = b.connect(0);
  for (const std::string& r : rooms)
    b.feed(b1, R"(2["join",")" + r + R"("])");
  for (size_t m = 0; m < rooms.size(); ++m) {
    ASSERT_TRUE(wait_until(
        [&] { return shard_subscribers(port(m), "socket.io#/#" + rooms[m] + "#") == 1; }));
  }

  (*servers)[victim]->kill();
  ASSERT_TRUE(wait_until([&] { return !a.bus->connected() && !b.bus->connected(); }));
  // The masters still up carry their rooms; the victim's room waits (no crash, no stall).
  expect_once(a, b, b1, rooms[other], 1);
  expect_once(a, b, b1, rooms[static_cast<size_t>(main_owner)], 2);
  a.on(0, [&] { a.io->to(rooms[victim]).emit("hello", 99); });  // parked until it returns

  ASSERT_TRUE((*servers)[victim]->restart());
  ASSERT_TRUE(wait_until([] { return cluster_ok(); }, std::chrono::milliseconds(30000)));
  ASSERT_TRUE(wait_until([&] { return a.bus->connected() && b.bus->connected(); }));
  ASSERT_TRUE(wait_until(
      [&] { return shard_subscribers(port(victim), "socket.io#/#" + rooms[victim] + "#") == 1; }));
  expect_once(a, b, b1, rooms[victim], 3);
  // The broadcast made during the outage either arrived after the restart or was dropped —
  // never twice.
  EXPECT_LE(b.count(b1, R"(2["hello",99])"), 1u);
}

}  // namespace
}  // namespace sb::adapter
