// ClusterClient against a real 3-master Redis Cluster (redis-server --cluster-enabled yes, joined
// with redis-cli --cluster create), started once for this suite.

#include "redis/cluster_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "redis_harness.h"

namespace sb::redis {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

TEST(RedisKeySlot, KnownValues) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("123456789"), 0x31C3 & 16383);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{}{bar}"), key_slot("foo{}{bar}"));  // empty tag: whole key hashed
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(key_slot(""), 0);
}

// A port p such that p and p + 10000 (the cluster bus) are both free.
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
      bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      ::close(fd);
      return ok;
    };
    if (bindable(p) && bindable(static_cast<uint16_t>(p + 10000))) return p;
  }
  return 0;
}

class RedisClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!RedisServer::available() || ::access("/usr/bin/redis-cli", X_OK) != 0) return;
    cluster_nodes = new std::vector<std::unique_ptr<RedisServer>>();
    std::string create = "timeout 60 /usr/bin/redis-cli --cluster create";
    for (int i = 0; i < 3; ++i) {
      uint16_t port = free_cluster_port();
      std::string conf = "/tmp/sb-redis-cluster-" + std::to_string(port) + ".conf";
      std::remove(conf.c_str());
      auto s = std::make_unique<RedisServer>();
      if (!s->start({"--cluster-enabled", "yes", "--cluster-config-file", conf,
                     "--cluster-node-timeout", "5000"},
                    port)) {
        return;
      }
      create += " 127.0.0.1:" + std::to_string(port);
      cluster_nodes->push_back(std::move(s));
    }
    create += " --cluster-replicas 0 --cluster-yes >/dev/null 2>&1";
    if (std::system(create.c_str()) != 0) return;
    // Joined when every node reports a healthy cluster.
    cluster_ready = wait_until(
        [] {
          for (auto& n : *cluster_nodes) {
            BlockingRedis b(n->port());
            Reply r = b.call({"CLUSTER", "INFO"});
            if (r.str.find("cluster_state:ok") == std::string::npos) return false;
          }
          return true;
        },
        std::chrono::milliseconds(30000));
  }
  static void TearDownTestSuite() {
    if (cluster_nodes == nullptr) return;
    for (auto& n : *cluster_nodes) {
      std::string conf = "/tmp/sb-redis-cluster-" + std::to_string(n->port()) + ".conf";
      n->kill(SIGTERM);
      std::remove(conf.c_str());
    }
    delete cluster_nodes;
    cluster_nodes = nullptr;
  }
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
    ASSERT_TRUE(cluster_ready) << "could not start a 3-node Redis Cluster";
  }

  static ClusterOptions options() {
    ClusterOptions o;
    Url seed;
    seed.port = (*cluster_nodes)[0]->port();
    o.seeds.push_back(seed);
    o.node.reconnect_min_ms = 20;
    o.node.reconnect_max_ms = 200;
    return o;
  }

  static std::vector<std::unique_ptr<RedisServer>>* cluster_nodes;
  static bool cluster_ready;
};
std::vector<std::unique_ptr<RedisServer>>* RedisClusterTest::cluster_nodes = nullptr;
bool RedisClusterTest::cluster_ready = false;

struct ClusterHarness {
  explicit ClusterHarness(ClusterOptions o) {
    runner.run_sync([&] {
      client = std::make_unique<ClusterClient>(runner.loop, std::move(o));
      client->on_message([this](const PubSubMessage& m) {
        std::lock_guard lock(mu);
        messages.emplace_back(std::string(m.channel), std::string(m.payload));
      });
    });
  }
  ~ClusterHarness() {
    runner.run_sync([&] { client.reset(); });
    runner.stop();
  }
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;
  bool connected() {
    return runner.run_sync([&] { return client->connected(); });
  }
  bool wait_connected() {
    return wait_until([&] { return connected(); });
  }
  size_t message_count() {
    std::lock_guard lock(mu);
    return messages.size();
  }
  Reply call(const std::string& key, std::vector<std::string> argv) {
    auto p = std::make_shared<std::promise<Reply>>();
    auto f = p->get_future();
    runner.run_sync([&] {
      std::vector<std::string_view> v(argv.begin(), argv.end());
      client->command(key, v, [p](const Reply& r) { p->set_value(r); });
    });
    if (f.wait_for(kWait) != std::future_status::ready) return Reply::error("TEST timeout");
    return f.get();
  }

  LoopRunner runner;
  std::unique_ptr<ClusterClient> client;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> messages;
};

TEST_F(RedisClusterTest, RoutesKeysAndFollowsMovedBeforeTheMapIsKnown) {
  ClusterHarness h(options());
  constexpr int kKeys = 300;
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  h.runner.run_sync([&] {
    h.client->start();
    // Issued at once: the slot map is not loaded yet, so these go to the seed, and about two
    // thirds come back MOVED and are sent again to the owner.
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "key:" + std::to_string(i);
      h.client->command(k, {"SET", k, std::to_string(i)}, [&](const Reply& r) {
        if (r.is("OK")) {
          ok++;
        } else {
          bad++;
        }
      });
    }
  });
  ASSERT_TRUE(wait_until([&] { return ok.load() + bad.load() == kKeys; }));
  EXPECT_EQ(bad.load(), 0);
  ASSERT_TRUE(wait_until([&] { return h.connected(); }));
  EXPECT_GT(h.runner.run_sync([&] { return h.client->redirects(); }), 0u);
  EXPECT_EQ(h.runner.run_sync([&] { return h.client->masters().size(); }), 3u);
  // Routed directly now (no redirect), values where they belong.
  const uint64_t redirects = h.runner.run_sync([&] { return h.client->redirects(); });
  for (int i = 0; i < kKeys; i += 37) {
    std::string k = "key:" + std::to_string(i);
    EXPECT_EQ(h.call(k, {"GET", k}).str, std::to_string(i));
  }
  EXPECT_EQ(h.runner.run_sync([&] { return h.client->redirects(); }), redirects);
  // Every master holds some of the keys.
  for (auto& n : *cluster_nodes) {
    BlockingRedis b(n->port());
    EXPECT_GT(b.call({"DBSIZE"}).integer, 0);
  }
}

TEST_F(RedisClusterTest, ShardedPubSubGoesToTheSlotOwner) {
  ClusterHarness sub(options());
  ClusterHarness pub(options());
  std::vector<std::string> channels;
  channels.reserve(12);
  for (int i = 0; i < 12; ++i)
    channels.push_back("socket.io#/#room" + std::to_string(i) + "#");
  sub.runner.run_sync([&] {
    for (auto& c : channels)
      sub.client->ssubscribe(c);
    sub.client->start();
  });
  pub.runner.run_sync([&] { pub.client->start(); });
  ASSERT_TRUE(wait_until([&] { return sub.connected() && pub.connected(); }));
  // SPUBLISH answers the number of receivers on the owner: 1 once the subscription is in place.
  for (auto& c : channels) {
    ASSERT_TRUE(wait_until([&] {
      auto p = std::make_shared<std::promise<Reply>>();
      auto f = p->get_future();
      pub.runner.run_sync(
          [&] { pub.client->spublish(c, "hello " + c, [p](const Reply& r) { p->set_value(r); }); });
      return f.wait_for(kWait) == std::future_status::ready && f.get().integer == 1;
    })) << c;
  }
  ASSERT_TRUE(wait_until([&] { return sub.message_count() >= channels.size(); }));
  {
    std::lock_guard lock(sub.mu);
    for (auto& [ch, payload] : sub.messages)
      EXPECT_EQ(payload, "hello " + ch);
  }
  // Shard channels are spread over more than one master.
  int masters_with_subs = 0;
  for (auto& n : *cluster_nodes) {
    BlockingRedis b(n->port());
    Reply r = b.call({"PUBSUB", "SHARDCHANNELS"});
    if (!r.elements.empty()) masters_with_subs++;
  }
  EXPECT_GE(masters_with_subs, 2);
  // Gathering from every master (what serverCount does with SHARDNUMSUB).
  auto p = std::make_shared<std::promise<std::vector<Reply>>>();
  auto f = p->get_future();
  sub.runner.run_sync([&] {
    const std::string_view argv[] = {"PUBSUB", "SHARDCHANNELS"};
    sub.client->command_on_masters(argv, [p](std::vector<Reply> v) { p->set_value(std::move(v)); });
  });
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  auto replies = f.get();
  ASSERT_EQ(replies.size(), 3u);
  size_t total = 0;
  for (auto& r : replies)
    total += r.elements.size();
  EXPECT_EQ(total, channels.size());
}

// Moves an empty slot from its owner to another master (the resharding steps, without keys).
bool move_slot(std::vector<std::unique_ptr<RedisServer>>& nodes, uint16_t slot, size_t from,
               size_t to) {
  BlockingRedis a(nodes[from]->port());
  BlockingRedis b(nodes[to]->port());
  std::string id_a = a.call({"CLUSTER", "MYID"}).str;
  std::string id_b = b.call({"CLUSTER", "MYID"}).str;
  std::string s = std::to_string(slot);
  if (!b.call({"CLUSTER", "SETSLOT", s, "IMPORTING", id_a}).is("OK")) return false;
  if (!a.call({"CLUSTER", "SETSLOT", s, "MIGRATING", id_b}).is("OK")) return false;
  if (!b.call({"CLUSTER", "SETSLOT", s, "NODE", id_b}).is("OK")) return false;
  if (!a.call({"CLUSTER", "SETSLOT", s, "NODE", id_b}).is("OK")) return false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i == from || i == to) continue;
    BlockingRedis c(nodes[i]->port());
    if (!c.call({"CLUSTER", "SETSLOT", s, "NODE", id_b}).is("OK")) return false;
  }
  return true;
}

// Index in nodes of the master owning `slot`, per CLUSTER SLOTS.
int owner_of(std::vector<std::unique_ptr<RedisServer>>& nodes, uint16_t slot) {
  BlockingRedis b(nodes[0]->port());
  Reply r = b.call({"CLUSTER", "SLOTS"});
  for (auto& range : r.elements) {
    if (range.elements.size() < 3) continue;
    if (slot < range.elements[0].integer || slot > range.elements[1].integer) continue;
    auto port = static_cast<uint16_t>(range.elements[2].elements[1].integer);
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i]->port() == port) return static_cast<int>(i);
    }
  }
  return -1;
}

TEST_F(RedisClusterTest, SlotMovedRedirectsCommandsAndMovesShardSubscriptions) {
  // A channel whose slot holds no keys (an empty slot moves without MIGRATE).
  std::string channel;
  uint16_t slot = 0;
  int from = -1;
  for (int i = 0; i < 1000 && channel.empty(); ++i) {
    std::string c = "migrating-" + std::to_string(i);
    uint16_t s = key_slot(c);
    int o = owner_of(*cluster_nodes, s);
    ASSERT_GE(o, 0);
    BlockingRedis b((*cluster_nodes)[static_cast<size_t>(o)]->port());
    if (b.call({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(s)}).integer == 0) {
      channel = c;
      slot = s;
      from = o;
    }
  }
  ASSERT_FALSE(channel.empty());
  const size_t to = (static_cast<size_t>(from) + 1) % cluster_nodes->size();

  ClusterHarness h(options());
  h.runner.run_sync([&] {
    h.client->ssubscribe(channel);
    h.client->start();
  });
  ASSERT_TRUE(h.wait_connected());
  BlockingRedis old_owner((*cluster_nodes)[static_cast<size_t>(from)]->port());
  ASSERT_TRUE(wait_until([&] { return old_owner.call({"SPUBLISH", channel, "a"}).integer == 1; }));
  ASSERT_TRUE(wait_until([&] { return h.message_count() == 1; }));

  ASSERT_TRUE(move_slot(*cluster_nodes, slot, static_cast<size_t>(from), to));
  // The client's map is stale: the command goes to the old owner, is MOVED, and lands.
  const uint64_t redirects = h.runner.run_sync([&] { return h.client->redirects(); });
  EXPECT_TRUE(h.call(channel, {"SPUBLISH", channel, "probe"}).type == Reply::Type::kInteger);
  EXPECT_GT(h.runner.run_sync([&] { return h.client->redirects(); }), redirects);
  // The MOVED triggered a map refresh, which moves the shard subscription to the new owner.
  BlockingRedis new_owner((*cluster_nodes)[to]->port());
  ASSERT_TRUE(wait_until([&] { return new_owner.call({"SPUBLISH", channel, "b"}).integer == 1; }));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(h.mu);
    return !h.messages.empty() && h.messages.back().second == "b";
  }));
  // Put the slot back for the other tests.
  ASSERT_TRUE(move_slot(*cluster_nodes, slot, to, static_cast<size_t>(from)));
}

TEST_F(RedisClusterTest, LoopShutdownStopsEveryNodeClient) {
  auto runner = std::make_unique<LoopRunner>();
  std::unique_ptr<ClusterClient> client;
  runner->run_sync([&] {
    client = std::make_unique<ClusterClient>(runner->loop, options());
    client->ssubscribe("shutdown-test");
    client->start();
  });
  ASSERT_TRUE(wait_until([&] { return runner->run_sync([&] { return client->connected(); }); }));
  runner->loop.begin_shutdown(10000);
  EXPECT_TRUE(runner->join_within(std::chrono::milliseconds(8000)));
  EXPECT_FALSE(client->connected());  // the loop thread is gone: safe to read
  client.reset();
  runner.reset();
}

TEST_F(RedisClusterTest, AskDuringMigrationSendsAskingToTheImportingNode) {
  // An empty slot, half-migrated: the old owner answers ASK for keys it does not have.
  std::string key;
  uint16_t slot = 0;
  int from = -1;
  for (int i = 0; i < 1000 && key.empty(); ++i) {
    std::string k = "asking-" + std::to_string(i);
    uint16_t s = key_slot(k);
    int o = owner_of(*cluster_nodes, s);
    ASSERT_GE(o, 0);
    BlockingRedis b((*cluster_nodes)[static_cast<size_t>(o)]->port());
    if (b.call({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(s)}).integer == 0) {
      key = k;
      slot = s;
      from = o;
    }
  }
  ASSERT_FALSE(key.empty());
  const size_t to = (static_cast<size_t>(from) + 1) % cluster_nodes->size();
  auto& nodes = *cluster_nodes;
  BlockingRedis a(nodes[static_cast<size_t>(from)]->port());
  BlockingRedis b(nodes[to]->port());
  const std::string id_a = a.call({"CLUSTER", "MYID"}).str;
  const std::string id_b = b.call({"CLUSTER", "MYID"}).str;
  const std::string s = std::to_string(slot);

  ClusterHarness h(options());
  h.runner.run_sync([&] { h.client->start(); });
  ASSERT_TRUE(h.wait_connected());

  ASSERT_TRUE(b.call({"CLUSTER", "SETSLOT", s, "IMPORTING", id_a}).is("OK"));
  ASSERT_TRUE(a.call({"CLUSTER", "SETSLOT", s, "MIGRATING", id_b}).is("OK"));
  const uint64_t redirects = h.runner.run_sync([&] { return h.client->redirects(); });
  EXPECT_TRUE(h.call(key, {"SET", key, "moved-in"}).is("OK"));
  EXPECT_GT(h.runner.run_sync([&] { return h.client->redirects(); }), redirects);
  EXPECT_EQ(b.call({"CLUSTER", "COUNTKEYSINSLOT", s}).integer, 1);  // landed on the importer
  EXPECT_EQ(a.call({"CLUSTER", "COUNTKEYSINSLOT", s}).integer, 0);

  // Finish the migration, clean up, and give the slot back.
  for (auto& n : nodes) {
    BlockingRedis c(n->port());
    ASSERT_TRUE(c.call({"CLUSTER", "SETSLOT", s, "NODE", id_b}).is("OK"));
  }
  EXPECT_EQ(h.call(key, {"GET", key}).str, "moved-in");
  EXPECT_EQ(h.call(key, {"DEL", key}).integer, 1);
  ASSERT_TRUE(move_slot(nodes, slot, to, static_cast<size_t>(from)));
}

}  // namespace
}  // namespace sb::redis
