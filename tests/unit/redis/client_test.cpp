// redis::Client against a real redis-server started per test on a free loopback port.

#include "redis/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "redis_harness.h"

namespace sb::redis {
namespace {

using namespace std::string_literals;
using namespace testing;  // NOLINT(google-build-using-namespace)

int64_t metric(const std::string& name) {
  int64_t v = metrics::value_of(name);
  return v < 0 ? 0 : v;
}

struct Received {
  PubSubMessage::Kind kind;
  std::string pattern, channel, payload;
};

// A Client on a loop thread, with what it reported collected under a mutex.
class ClientHarness {
 public:
  explicit ClientHarness(ClientOptions o, const net::LoopOptions& lo = net::LoopOptions{})
      : runner(lo) {
    runner.run_sync([&] {
      client = std::make_unique<Client>(runner.loop, std::move(o));
      client->on_message([this](const PubSubMessage& m) {
        std::lock_guard lock(mu);
        messages.push_back(Received{m.kind, std::string(m.pattern), std::string(m.channel),
                                    std::string(m.payload)});
      });
      client->on_state([this](bool up) {
        std::lock_guard lock(mu);
        states.push_back(up);
      });
    });
  }
  ~ClientHarness() {
    runner.run_sync([&] { client.reset(); });
    runner.stop();
  }
  ClientHarness(const ClientHarness&) = delete;
  ClientHarness& operator=(const ClientHarness&) = delete;

  void start() {
    runner.run_sync([&] { client->start(); });
  }
  bool connected() {
    return runner.run_sync([&] { return client->connected(); });
  }
  bool wait_connected() {
    return wait_until([&] { return connected(); });
  }
  Client::Stats stats() {
    return runner.run_sync([&] { return client->stats(); });
  }
  std::string last_error() {
    return runner.run_sync([&] { return client->last_error(); });
  }

  /// Issues a command on the loop and waits (bounded) for its reply.
  Reply call(std::vector<std::string> argv) {
    auto p = std::make_shared<std::promise<Reply>>();
    auto f = p->get_future();
    runner.run_sync([&] {
      std::vector<std::string_view> views(argv.begin(), argv.end());
      client->command(views, [p](const Reply& r) { p->set_value(r); });
    });
    if (f.wait_for(kWait) != std::future_status::ready) return Reply::error("TEST timeout");
    return f.get();
  }

  size_t message_count() {
    std::lock_guard lock(mu);
    return messages.size();
  }
  std::vector<Received> messages_copy() {
    std::lock_guard lock(mu);
    return messages;
  }
  std::vector<bool> states_copy() {
    std::lock_guard lock(mu);
    return states;
  }

  LoopRunner runner;
  std::unique_ptr<Client> client;
  std::mutex mu;
  std::vector<Received> messages;
  std::vector<bool> states;
};

ClientOptions options_for(const RedisServer& s) {
  ClientOptions o;
  o.url = parse_url(s.url()).value();
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 200;
  return o;
}

// Number of subscribers Redis counts for a channel: lets a test wait for a subscription to be
// in place instead of sleeping.
int64_t numsub(BlockingRedis& admin, std::string_view verb, std::string_view channel) {
  Reply r = admin.call({"PUBSUB", verb, channel});
  if (r.type != Reply::Type::kArray || r.elements.size() != 2) return -1;
  return r.elements[1].integer;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
  }
};

TEST_F(RedisClientTest, PipelinesManyCommandsInOrder) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.start();
  ASSERT_TRUE(h.wait_connected());

  // 20,000 INCRs issued in one loop turn: FIFO matching means the i-th callback sees i+1. The
  // burst is larger than the connection's high watermark, so part of it goes through the queue.
  constexpr int kCount = 20000;
  std::atomic<int> done{0};
  std::atomic<int> out_of_order{0};
  h.runner.run_sync([&] {
    for (int i = 0; i < kCount; ++i) {
      h.client->command({"INCR", "counter"}, [&, i](const Reply& r) {
        if (r.type != Reply::Type::kInteger || r.integer != i + 1) out_of_order++;
        done++;
      });
    }
  });
  ASSERT_TRUE(wait_until([&] { return done.load() == kCount; }));
  EXPECT_EQ(out_of_order.load(), 0);

  // SET then GET of many keys, pipelined.
  constexpr int kKeys = 5000;
  std::atomic<int> good{0};
  h.runner.run_sync([&] {
    for (int i = 0; i < kKeys; ++i) {
      std::string k = "k" + std::to_string(i);
      std::string v = "v" + std::to_string(i * 7);
      h.client->command({"SET", k, v});
      h.client->command({"GET", k}, [&good, v](const Reply& r) {
        if (r.type == Reply::Type::kString && r.str == v) good++;
      });
    }
  });
  ASSERT_TRUE(wait_until([&] { return good.load() == kKeys; }));
  auto st = h.stats();
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.commands_dropped, 0u);
  EXPECT_EQ(st.reply_errors, 0u);
}

TEST_F(RedisClientTest, BinarySafeValuesAndErrors) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.start();
  ASSERT_TRUE(h.wait_connected());
  const std::string key = "bin\0key\r\n"s;
  const std::string value = "\0\1\2\r\n$3\r\n*1\xff\0"s;
  EXPECT_TRUE(h.call({"SET", key, value}).is("OK"));
  Reply got = h.call({"GET", key});
  ASSERT_EQ(got.type, Reply::Type::kString);
  EXPECT_EQ(got.str, value);
  Reply err = h.call({"LPUSH", key, "x"});
  EXPECT_TRUE(err.is_error());
  EXPECT_EQ(err.str.rfind("WRONGTYPE", 0), 0u) << err.str;
  EXPECT_EQ(h.call({"GET", "missing"}).type, Reply::Type::kNil);
  EXPECT_EQ(h.stats().reply_errors, 1u);
}

TEST_F(RedisClientTest, LargeCommandIsStreamedPastTheOutboundLimit) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.start();
  ASSERT_TRUE(h.wait_connected());
  // 3 MiB, three times the connection's outbound limit: written in pieces on drain.
  std::string big(3 << 20, 'b');
  for (size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  EXPECT_TRUE(h.call({"SET", "big", big}).is("OK"));
  Reply got = h.call({"GET", "big"});
  EXPECT_EQ(got.str.size(), big.size());
  EXPECT_TRUE(got.str == big);
}

TEST_F(RedisClientTest, PublishReachesSubscribeAndPsubscribe) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.runner.run_sync([&] {
    // Before start(): remembered and sent during the connection's restore step.
    h.client->subscribe("news");
    h.client->psubscribe("ne*");
  });
  h.start();
  ASSERT_TRUE(h.wait_connected());
  BlockingRedis admin(server.port());
  const std::string payload = "hello\0world\r\n"s;
  Reply n = admin.call({"PUBLISH", "news", payload});
  EXPECT_EQ(n.integer, 2);  // one client, two matching subscriptions
  ASSERT_TRUE(wait_until([&] { return h.message_count() == 2; }));
  auto msgs = h.messages_copy();
  bool saw_message = false;
  bool saw_pmessage = false;
  for (auto& m : msgs) {
    EXPECT_EQ(m.channel, "news");
    EXPECT_EQ(m.payload, payload);
    if (m.kind == PubSubMessage::Kind::kMessage) saw_message = true;
    if (m.kind == PubSubMessage::Kind::kPMessage) {
      saw_pmessage = true;
      EXPECT_EQ(m.pattern, "ne*");
    }
  }
  EXPECT_TRUE(saw_message);
  EXPECT_TRUE(saw_pmessage);

  // Subscribing while connected; then unsubscribing.
  h.runner.run_sync([&] { h.client->subscribe("other"); });
  ASSERT_TRUE(wait_until([&] { return numsub(admin, "NUMSUB", "other") == 1; }));
  EXPECT_EQ(admin.call({"PUBLISH", "other", "x"}).integer, 1);
  ASSERT_TRUE(wait_until([&] { return h.message_count() == 3; }));
  h.runner.run_sync([&] {
    h.client->unsubscribe("news");
    h.client->punsubscribe("ne*");
  });
  ASSERT_TRUE(wait_until([&] { return numsub(admin, "NUMSUB", "news") == 0; }));
  ASSERT_TRUE(wait_until([&] { return admin.call({"PUBSUB", "NUMPAT"}).integer == 0; }));
  EXPECT_EQ(admin.call({"PUBLISH", "news", "y"}).integer, 0);
  EXPECT_EQ(h.stats().messages_received, 3u);
  EXPECT_EQ(h.stats().protocol_errors, 0u);
}

TEST_F(RedisClientTest, ShardedPublishReachesSsubscribe) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.runner.run_sync([&] { h.client->ssubscribe("room:{a}"); });
  h.start();
  ASSERT_TRUE(h.wait_connected());
  BlockingRedis admin(server.port());
  EXPECT_EQ(admin.call({"SPUBLISH", "room:{a}", "p\0q"s}).integer, 1);
  ASSERT_TRUE(wait_until([&] { return h.message_count() == 1; }));
  auto m = h.messages_copy().at(0);
  EXPECT_EQ(m.kind, PubSubMessage::Kind::kSMessage);
  EXPECT_EQ(m.channel, "room:{a}");
  EXPECT_EQ(m.payload, "p\0q"s);
  // A second shard channel while connected, then leave the first.
  h.runner.run_sync([&] {
    h.client->ssubscribe("room:{b}");
    h.client->sunsubscribe("room:{a}");
  });
  ASSERT_TRUE(wait_until([&] { return numsub(admin, "SHARDNUMSUB", "room:{b}") == 1; }));
  ASSERT_TRUE(wait_until([&] { return numsub(admin, "SHARDNUMSUB", "room:{a}") == 0; }));
  EXPECT_EQ(admin.call({"SPUBLISH", "room:{b}", "z"}).integer, 1);
  ASSERT_TRUE(wait_until([&] { return h.message_count() == 2; }));
}

// Pushes arriving in the same read as other replies (here: subscription confirmations while a
// publisher floods the channel) are split between the in-place push path and the general reader.
// Every byte must reach exactly one of them: a regression fed the tail to the reader *and* left
// it to be offered again, which showed up as a protocol error and a reconnect.
TEST_F(RedisClientTest, PushesMixedWithConfirmationsInOneReadAreEachParsedOnce) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.runner.run_sync([&] { h.client->subscribe("feed"); });
  h.start();
  ASSERT_TRUE(h.wait_connected());
  BlockingRedis admin(server.port());
  ASSERT_TRUE(wait_until([&] { return numsub(admin, "NUMSUB", "feed") == 1; }));
  constexpr int kMessages = 3000;
  constexpr int kChannels = 400;
  std::thread publisher([&] {
    BlockingRedis pub(server.port());
    for (int i = 0; i < kMessages; ++i) {
      // Sizes vary so that read boundaries fall everywhere.
      const std::string payload =
          std::to_string(i) + ":" + std::string(static_cast<size_t>(i % 97), 'x');
      pub.call({"PUBLISH", "feed", payload});
    }
  });
  for (int c = 0; c < kChannels; ++c) {
    h.runner.run_sync([&] { h.client->subscribe("side:" + std::to_string(c)); });
  }
  publisher.join();
  ASSERT_TRUE(wait_until([&] { return h.message_count() == static_cast<size_t>(kMessages); }));
  auto msgs = h.messages_copy();
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(msgs[static_cast<size_t>(i)].payload.substr(
                  0, msgs[static_cast<size_t>(i)].payload.find(':')),
              std::to_string(i));
  }
  EXPECT_EQ(h.stats().protocol_errors, 0u);
  EXPECT_EQ(h.stats().disconnects, 0u);
}

TEST_F(RedisClientTest, AuthWithRightPassword) {
  RedisServer server;
  ASSERT_TRUE(server.start({"--requirepass", "s3cret"}));
  ClientOptions o = options_for(server);
  o.url.password = "s3cret";
  ClientHarness h(o);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  EXPECT_TRUE(h.call({"SET", "a", "1"}).is("OK"));
  EXPECT_EQ(h.call({"GET", "a"}).str, "1");
}

TEST_F(RedisClientTest, AuthWithWrongPasswordNeverConnects) {
  RedisServer server;
  ASSERT_TRUE(server.start({"--requirepass", "s3cret"}));
  ClientOptions o = options_for(server);
  o.url.password = "wrong";
  ClientHarness h(o);
  std::atomic<int> answered{0};
  std::string answer;
  h.runner.run_sync([&] {
    h.client->start();
    h.client->command({"GET", "a"}, [&](const Reply& r) {
      answer = r.str;
      answered++;
    });
  });
  // It keeps retrying (with back-off) and never becomes ready; the queued command waits.
  ASSERT_TRUE(wait_until([&] { return h.stats().connect_failures >= 3; }));
  EXPECT_FALSE(h.connected());
  EXPECT_NE(h.last_error().find("WRONGPASS"), std::string::npos) << h.last_error();
  EXPECT_EQ(h.stats().connects, 0u);
  EXPECT_EQ(answered.load(), 0);
  h.runner.run_sync([&] { h.client->stop(); });
  EXPECT_EQ(answered.load(), 1);
  EXPECT_EQ(answer, "ERR client stopped");
  EXPECT_TRUE(h.states_copy().empty());
}

TEST_F(RedisClientTest, AclUserAndPassword) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  BlockingRedis admin(server.port());
  ASSERT_TRUE(admin.call({"ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all"}).is("OK"));
  ClientOptions o = options_for(server);
  o.url.user = "alice";
  o.url.password = "pw";
  ClientHarness h(o);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  EXPECT_EQ(h.call({"ACL", "WHOAMI"}).str, "alice");
}

TEST_F(RedisClientTest, SelectsDatabaseAndSetsName) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientOptions o = options_for(server);
  o.url = parse_url(server.url() + "/3").value();
  o.name = "sb-test";
  ClientHarness h(o);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  EXPECT_TRUE(h.call({"SET", "where", "three"}).is("OK"));
  EXPECT_EQ(h.call({"CLIENT", "GETNAME"}).str, "sb-test");
  BlockingRedis admin(server.port());
  EXPECT_EQ(admin.call({"GET", "where"}).type, Reply::Type::kNil);  // db 0
  EXPECT_TRUE(admin.call({"SELECT", "3"}).is("OK"));
  EXPECT_EQ(admin.call({"GET", "where"}).str, "three");
}

TEST_F(RedisClientTest, RestartedServerRestoresSubscriptionsAndDeliversQueuedCommands) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  const int64_t reconnects_before = metric("sb_redis_reconnects_total");
  ClientOptions o = options_for(server);
  ClientHarness sub(o);  // subscriber client
  ClientHarness cmd(o);  // regular client
  sub.runner.run_sync([&] {
    sub.client->subscribe("chan");
    sub.client->psubscribe("pat:*");
    sub.client->ssubscribe("shard");
  });
  sub.start();
  cmd.start();
  ASSERT_TRUE(sub.wait_connected());
  ASSERT_TRUE(cmd.wait_connected());

  // In flight when the server dies: a BLPOP that blocks until then.
  std::atomic<int> blpop_done{0};
  std::string blpop_answer;
  cmd.runner.run_sync([&] {
    cmd.client->command({"BLPOP", "never", "0"}, [&](const Reply& r) {
      blpop_answer = r.is_error() ? r.str : "not an error";
      blpop_done++;
    });
  });
  {
    BlockingRedis admin(server.port());
    ASSERT_TRUE(wait_until([&] {
      Reply r = admin.call({"INFO", "clients"});
      return r.str.find("blocked_clients:1") != std::string::npos;
    }));
  }
  server.kill(SIGKILL);
  ASSERT_TRUE(wait_until([&] { return blpop_done.load() == 1; }));
  EXPECT_EQ(blpop_answer, "ERR connection lost");
  ASSERT_TRUE(wait_until([&] { return !cmd.connected() && !sub.connected(); }));

  // Queued while the server is down.
  std::atomic<int> queued_ok{0};
  cmd.runner.run_sync([&] {
    for (int i = 0; i < 100; ++i) {
      cmd.client->command({"RPUSH", "list", std::to_string(i)}, [&](const Reply& r) {
        if (r.type == Reply::Type::kInteger) queued_ok++;
      });
    }
  });
  EXPECT_EQ(cmd.runner.run_sync([&] { return cmd.client->queued_commands(); }), 100u);
  // Let the clients fail at least one reconnect attempt against the dead port.
  ASSERT_TRUE(wait_until([&] { return cmd.stats().connect_failures >= 1; }));

  ASSERT_TRUE(server.restart());
  ASSERT_TRUE(cmd.wait_connected());
  ASSERT_TRUE(sub.wait_connected());
  ASSERT_TRUE(wait_until([&] { return queued_ok.load() == 100; }));
  BlockingRedis admin(server.port());
  Reply list = admin.call({"LRANGE", "list", "0", "-1"});
  ASSERT_EQ(list.elements.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(list.elements[static_cast<size_t>(i)].str, std::to_string(i));

  // Subscriptions were restored before the client reported ready.
  EXPECT_EQ(numsub(admin, "NUMSUB", "chan"), 1);
  EXPECT_EQ(numsub(admin, "SHARDNUMSUB", "shard"), 1);
  EXPECT_EQ(admin.call({"PUBSUB", "NUMPAT"}).integer, 1);
  EXPECT_EQ(admin.call({"PUBLISH", "chan", "a"}).integer, 1);
  EXPECT_EQ(admin.call({"PUBLISH", "pat:1", "b"}).integer, 1);
  EXPECT_EQ(admin.call({"SPUBLISH", "shard", "c"}).integer, 1);
  ASSERT_TRUE(wait_until([&] { return sub.message_count() == 3; }));

  auto states = sub.states_copy();
  ASSERT_EQ(states.size(), 3u);
  EXPECT_TRUE(states[0]);
  EXPECT_FALSE(states[1]);
  EXPECT_TRUE(states[2]);
  auto st = cmd.stats();
  EXPECT_EQ(st.connects, 2u);
  EXPECT_EQ(st.disconnects, 1u);
  EXPECT_GE(metric("sb_redis_reconnects_total") - reconnects_before, 2);
}

TEST_F(RedisClientTest, KilledMidStreamEveryCallbackRunsOnce) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.start();
  ASSERT_TRUE(h.wait_connected());
  constexpr int kCount = 20000;
  std::atomic<int> ok{0};
  std::atomic<int> lost{0};
  std::atomic<int> other{0};
  h.runner.run_sync([&] {
    for (int i = 0; i < kCount; ++i) {
      h.client->command({"INCR", "n"}, [&](const Reply& r) {
        if (r.type == Reply::Type::kInteger) {
          ok++;
        } else if (r.is_error() && r.str == "ERR connection lost") {
          lost++;
        } else {
          other++;
        }
      });
    }
  });
  server.kill(SIGKILL);  // while the burst is being written and answered
  // Commands still queued wait for the next connection: bring the server back.
  ASSERT_TRUE(wait_until([&] { return !h.connected(); }));
  ASSERT_TRUE(server.restart());
  ASSERT_TRUE(wait_until([&] { return ok.load() + lost.load() + other.load() == kCount; }));
  EXPECT_EQ(other.load(), 0);
  ASSERT_TRUE(h.wait_connected());
  EXPECT_TRUE(h.call({"PING"}).is("PONG"));
}

TEST_F(RedisClientTest, QueueOverflowIsRefusedAndCounted) {
  RedisServer server;
  const uint16_t port = free_port();  // nobody listens yet
  ClientOptions o;
  o.url.port = port;
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 100;
  o.max_pending_commands = 10;
  ClientHarness h(o);
  const int64_t dropped_before = metric("sb_redis_commands_dropped_total");
  std::atomic<int> ok{0};
  std::atomic<int> full{0};
  h.runner.run_sync([&] {
    h.client->start();
    for (int i = 0; i < 15; ++i) {
      h.client->command({"SET", "k" + std::to_string(i), "v"}, [&](const Reply& r) {
        if (r.is("OK")) ok++;
        if (r.is_error() && r.str == "ERR queue full") full++;
      });
    }
  });
  ASSERT_TRUE(wait_until([&] { return full.load() == 5; }));
  EXPECT_EQ(h.stats().commands_dropped, 5u);
  EXPECT_EQ(metric("sb_redis_commands_dropped_total") - dropped_before, 5);
  ASSERT_TRUE(wait_until([&] { return h.stats().connect_failures >= 2; }));
  EXPECT_EQ(ok.load(), 0);
  ASSERT_TRUE(server.start({}, port));
  ASSERT_TRUE(wait_until([&] { return ok.load() == 10; }));
  EXPECT_EQ(full.load(), 5);
}

TEST_F(RedisClientTest, StopAnswersEverythingAndStaysStopped) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientHarness h(options_for(server));
  h.start();
  ASSERT_TRUE(h.wait_connected());
  std::vector<std::string> answers;
  h.runner.run_sync([&] {
    h.client->command({"BLPOP", "never", "0"}, [&](const Reply& r) { answers.push_back(r.str); });
    h.client->stop();
    h.client->command({"PING"}, [&](const Reply& r) { answers.push_back(r.str); });
  });
  h.runner.run_sync([] {});  // the refusal is delivered at the end of the turn
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], "ERR connection lost");
  EXPECT_EQ(answers[1], "ERR client stopped");
  EXPECT_FALSE(h.connected());
  BlockingRedis admin(server.port());
  // Our connection is gone and stays gone (no reconnect): only the admin is connected.
  ASSERT_TRUE(wait_until([&] {
    Reply r = admin.call({"INFO", "clients"});
    return r.str.find("connected_clients:1\r") != std::string::npos;
  }));
  auto states = h.states_copy();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_FALSE(states[1]);
}

TEST_F(RedisClientTest, ConnectTimeoutWhenServerNeverAnswers) {
  // A listener that never accepts: TCP completes in the backlog, but nothing ever answers PING.
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(lfd, 16), 0);
  socklen_t len = sizeof(a);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  ClientOptions o;
  o.url.port = ntohs(a.sin_port);
  o.connect_timeout_ms = 100;
  o.reconnect_min_ms = 10;
  o.reconnect_max_ms = 20;
  {
    ClientHarness h(o);
    h.start();
    ASSERT_TRUE(wait_until([&] { return h.stats().connect_failures >= 2; }));
    EXPECT_FALSE(h.connected());
    EXPECT_NE(h.last_error().find("timed out"), std::string::npos) << h.last_error();
  }
  ::close(lfd);
}

TEST_F(RedisClientTest, GarbageFromServerIsAProtocolErrorAndReconnects) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(lfd, 16), 0);
  socklen_t len = sizeof(a);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  ClientOptions o;
  o.url.port = ntohs(a.sin_port);
  o.reconnect_min_ms = 10;
  o.reconnect_max_ms = 20;
  const int64_t before = metric("sb_redis_protocol_errors_total");
  ClientHarness h(o);
  h.start();
  // Play a broken server twice: read the PING, answer garbage.
  for (int round = 0; round < 2; ++round) {
    pollfd p{lfd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(fd, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[256];
    ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
    const char garbage[] = "!this is not RESP\r\n";
    ASSERT_GT(::send(fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL), 0);
    // The client drops the connection: we see EOF (or a reset).
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    EXPECT_LE(n, 0);
    ::close(fd);
  }
  ASSERT_TRUE(wait_until([&] { return h.stats().protocol_errors >= 2; }));
  EXPECT_GE(metric("sb_redis_protocol_errors_total") - before, 2);
  EXPECT_FALSE(h.connected());
  EXPECT_NE(h.last_error().find("protocol error"), std::string::npos) << h.last_error();
  ::close(lfd);
}

TEST_F(RedisClientTest, LoopShutdownClosesTheConnectionAndTheLoopExits) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  const int64_t connected_before = metric("sb_redis_connected");
  auto runner = std::make_unique<LoopRunner>();
  std::unique_ptr<Client> client;
  runner->run_sync([&] {
    client = std::make_unique<Client>(runner->loop, options_for(server));
    client->start();
  });
  ASSERT_TRUE(wait_until([&] { return runner->run_sync([&] { return client->connected(); }); }));
  EXPECT_EQ(metric("sb_redis_connected") - connected_before, 1);
  runner->loop.begin_shutdown(10000);
  // run() returns once the last connection is gone; well before the 10 s shutdown timeout.
  EXPECT_TRUE(runner->join_within(std::chrono::milliseconds(8000)));
  EXPECT_FALSE(client->connected());  // the loop thread is gone: safe to read
  EXPECT_EQ(metric("sb_redis_connected") - connected_before, 0);
  client.reset();
  runner.reset();
}

TEST_F(RedisClientTest, HostnameIsResolved) {
  RedisServer server;
  ASSERT_TRUE(server.start());
  ClientOptions o = options_for(server);
  o.url.host = "localhost";
  ClientHarness h(o);
  h.start();
  // localhost may resolve to ::1 first while the server binds 127.0.0.1 only: then the client
  // keeps failing, which is also correct; the test only insists on no crash and a clear error.
  if (wait_until([&] { return h.connected(); }, std::chrono::milliseconds(3000))) {
    EXPECT_TRUE(h.call({"PING"}).is("PONG"));
  } else {
    EXPECT_FALSE(h.last_error().empty());
  }
}

}  // namespace
}  // namespace sb::redis
