// A Switchboard node and a Node.js node (socket.io 4.8 + @socket.io/redis-adapter 8.3, npm) in
// one cluster on a real redis-server: broadcasts, fetchSockets, allRooms, serverCount,
// serverSideEmit with ack and broadcast acks, both ways. The Node peer is node_peer.mjs, driven
// through its stdin/stdout.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <string>

#include "../redis/redis_harness.h"
#include "../socketio/fake_runtime.h"
#include "adapter/classic_adapter.h"
#include "adapter/redis_adapter.h"
#include "net/loop_group.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::adapter {
namespace {

using redis::testing::RedisServer;
using redis::testing::wait_until;
using socketio::Json;
using socketio::LoopScope;
using socketio::testing::TestClient;
using namespace std::chrono_literals;

std::string find_node() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

// The Node peer process: stdin for commands, stdout read line by line with a deadline.
class NodePeer {
 public:
  bool start(uint16_t redis_port, bool sharded = false) {
    const std::string script =
        std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/')) + "/node_peer.mjs";
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    std::string node = find_node();
    std::string port = std::to_string(redis_port);
    std::string mode = sharded ? "sharded" : "classic";
    std::vector<char*> argv = {node.data(), const_cast<char*>(script.c_str()), port.data(),
                               mode.data(), nullptr};
    const int rc = posix_spawn(&pid_, node.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    return rc == 0;
  }
  ~NodePeer() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  void send(const std::string& cmd) {
    const std::string line = cmd + "\n";
    ASSERT_EQ(::write(to_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  }
  /// The JSON after `<tag> ` of the first unread line with that tag ("" on timeout).
  std::string expect(std::string_view tag, std::chrono::milliseconds timeout = 15s) {
    const std::string prefix = std::string(tag) + " ";
    std::string line =
        wait_for([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, timeout);
    return line.empty() ? line : line.substr(prefix.size());
  }
  /// Waits for this exact line; returns it ("" on timeout).
  std::string expect_line(std::string_view want) {
    return wait_for([&](const std::string& l) { return l == want; }, 15s);
  }

 private:
  template <typename Pred>
  std::string wait_for(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
        lines_.push_back(buf_.substr(0, nl));
        buf_.erase(0, nl + 1);
      }
      auto it = std::find_if(lines_.begin(), lines_.end(), pred);
      if (it != lines_.end()) {
        std::string l = *it;
        lines_.erase(it);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      const ssize_t n = ::read(from_, tmp, sizeof tmp);
      if (n <= 0) return {};
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buf_;
  std::vector<std::string> lines_;
};

struct Cpp {
  explicit Cpp(const std::string& url, bool sharded = false)
      : group(2, net::LoopOptions{}), loops(group) {
    RedisAdapterOptions o;
    o.url = url;
    o.mode = sharded ? RedisAdapterMode::kSharded : RedisAdapterMode::kClassic;
    o.server_count_refresh_ms = 200;
    socketio::ServerOptions so;
    so.adapter = make_redis_adapter_factory(group, o, &bus);
    io = std::make_unique<socketio::Server>(loops, so);
    io->on_connection([](socketio::Socket& s) {
      s.on("join", [&s](const socketio::Args& a) { s.join(a.str(0)); });
    });
    io->of("/").on_server_side("ping",
                               [](const socketio::Args& a, const socketio::ServerSideAck& ack) {
                                 ack(socketio::json::object({{"from", "cpp"}, {"got", a.str(0)}}));
                               });
    group.start();
  }
  ~Cpp() {
    group.stop();
    io.reset();
    bus.reset();
  }
  template <typename F>
  auto on(int loop, F&& f) -> decltype(f()) {
    using R = decltype(f());
    std::promise<R> done;
    auto fut = done.get_future();
    group.loop(loop).post([&] {
      LoopScope scope(loop);
      if constexpr (std::is_void_v<R>) {
        f();
        done.set_value();
      } else {
        done.set_value(f());
      }
    });
    EXPECT_EQ(fut.wait_for(15s), std::future_status::ready);
    return fut.get();
  }
  std::vector<std::string> out(const TestClient& c) {
    return on(c.client->loop(), [&] { return c.link->out; });
  }
  std::string wait_packet(const TestClient& c, std::string_view contains) {
    std::string found;
    wait_until([&] {
      for (const auto& p : out(c))
        if (p.find(contains) != std::string::npos) found = p;
      return !found.empty();
    });
    return found;
  }
  ClassicRedisAdapter& adapter() {
    return static_cast<ClassicRedisAdapter&>(io->of("/").adapter());
  }

  net::LoopGroup group;
  socketio::NetLoops loops;
  std::shared_ptr<RedisBus> bus;
  std::unique_ptr<socketio::Server> io;
};

struct NodeInteropTest : ::testing::Test {
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server not installed";
    if (find_node().empty()) GTEST_SKIP() << "node not installed";
    ASSERT_TRUE(redis.start());
  }
  RedisServer redis;
};

TEST_F(NodeInteropTest, MixedClusterSpeaksOneProtocol) {
  Cpp cpp(redis.url());
  NodePeer node;
  ASSERT_TRUE(node.start(redis.port()));
  std::string node_client = node.expect("READY");  // a JSON string
  ASSERT_GE(node_client.size(), 2u) << "node peer did not start";
  node_client = node_client.substr(1, node_client.size() - 2);
  ASSERT_TRUE(wait_until([&] { return cpp.bus->ready() && cpp.io->of("/").server_count() == 2; }));

  TestClient c1 = cpp.on(1, [&] {
    TestClient c = socketio::testing::connect_client(*cpp.io, 1);
    c.client->on_text("0");
    c.client->on_text(R"(2["join","croom"])");
    return c;
  });
  const std::string c1_id = cpp.on(1, [&] {
    std::string id;
    cpp.io->of("/").for_each_local(1, [&](socketio::Socket& s) { id = s.id(); });
    return id;
  });

  // C++ → Node broadcast, with binary.
  cpp.on(0, [&] { cpp.io->to("room1").emit("chat", "hi", Json::binary(socketio::Bytes{1, 2})); });
  EXPECT_EQ(node.expect_line(R"(CLIENT ["chat","hi",{"bin":"0102"}])"),
            R"(CLIENT ["chat","hi",{"bin":"0102"}])");

  // Node → C++ broadcast: Buffer → attachment, Date → ISO string.
  node.send("emit");
  EXPECT_EQ(cpp.wait_packet(c1, "fromnode"),
            R"(51-["fromnode",1,{"_placeholder":true,"num":0},{"d":"1970-01-01T00:00:00.000Z"}])");

  // Node asks: fetchSockets (our answer), allRooms, serverCount.
  node.send("fetch");
  const std::string fetched = node.expect("FETCH");
  EXPECT_NE(fetched.find(node_client), std::string::npos) << fetched;
  node.send("rooms");
  const std::string rooms = node.expect("ROOMS");
  EXPECT_NE(rooms.find("\"croom\""), std::string::npos) << rooms;
  EXPECT_NE(rooms.find(c1_id), std::string::npos) << rooms;
  node.send("count");
  EXPECT_EQ(node.expect("COUNT"), "2");

  // We ask: fetchSockets in room1 finds the Node client (remote), allRooms has room1.
  std::promise<std::vector<socketio::SocketInfo>> found;
  cpp.on(0, [&] {
    cpp.io->in("room1").fetch_sockets(
        [&](std::vector<socketio::SocketInfo> v) { found.set_value(std::move(v)); });
  });
  auto ff = found.get_future();
  ASSERT_EQ(ff.wait_for(10s), std::future_status::ready);
  auto socks = ff.get();
  ASSERT_EQ(socks.size(), 1u);
  EXPECT_EQ(socks[0].id, node_client);
  EXPECT_TRUE(socks[0].remote());
  EXPECT_EQ(socks[0].data_json, R"({"instance":"node"})");
  EXPECT_NE(socks[0].handshake_json.find("\"headers\""), std::string::npos);

  // serverSideEmit with ack, both ways.
  node.send("sse");
  EXPECT_EQ(node.expect("SSE"), R"([{"from":"cpp","got":"from-node"}])");
  std::promise<std::pair<std::string, std::vector<std::string>>> sse;
  cpp.on(0, [&] {
    const Json args[] = {Json("x")};
    cpp.io->of("/").server_side_emit_with_ack("ping", args,
                                              [&](std::string_view e, std::vector<std::string> r) {
                                                sse.set_value({std::string(e), std::move(r)});
                                              });
  });
  auto sf = sse.get_future();
  ASSERT_EQ(sf.wait_for(10s), std::future_status::ready);
  auto [sse_err, sse_r] = sf.get();
  EXPECT_EQ(sse_err, "");
  EXPECT_EQ(sse_r, std::vector<std::string>{R"({"from":"node","got":"x"})"});

  // Broadcast with acks, Node → C++: our client answers, Node collects it.
  node.send("ack");
  const std::string ask = cpp.wait_packet(c1, "\"ask\"");
  ASSERT_FALSE(ask.empty());
  const std::string id = ask.substr(1, ask.find('[') - 1);
  cpp.on(1, [&] { c1.client->on_text("3" + id + R"([{"a":1}])"); });
  EXPECT_EQ(node.expect("ACK"), R"([{"a":1}])");

  // Broadcast with acks, C++ → Node: the Node client answers.
  std::promise<std::pair<std::string, std::vector<std::string>>> acks;
  cpp.on(0, [&] {
    const Json args[] = {Json(1)};
    cpp.io->to("room1").timeout(3000).emit_with_ack(
        "q", args, [&](std::string_view e, std::vector<std::string> r) {
          acks.set_value({std::string(e), std::move(r)});
        });
  });
  auto af = acks.get_future();
  ASSERT_EQ(af.wait_for(10s), std::future_status::ready);
  auto [ack_err, ack_r] = af.get();
  EXPECT_EQ(ack_err, "");
  EXPECT_EQ(ack_r, std::vector<std::string>{R"({"answer":"node-client"})"});

  // socketsJoin from Node reaches our socket.
  node.send("join");
  EXPECT_TRUE(wait_until([&] {
    return cpp.on(1, [&] {
      socketio::Socket* s = cpp.io->of("/").find(1, c1_id);
      return s != nullptr && s->in("joined-by-node");
    });
  }));
  node.send("quit");
}

TEST_F(NodeInteropTest, MixedShardedClusterSpeaksOneProtocol) {
  Cpp cpp(redis.url(), true);
  NodePeer node;
  ASSERT_TRUE(node.start(redis.port(), true));
  std::string node_client = node.expect("READY");
  ASSERT_GE(node_client.size(), 2u) << "node peer did not start";
  node_client = node_client.substr(1, node_client.size() - 2);
  ASSERT_TRUE(wait_until([&] { return cpp.bus->ready() && cpp.io->of("/").server_count() == 2; }));

  TestClient c1 = cpp.on(1, [&] {
    TestClient c = socketio::testing::connect_client(*cpp.io, 1);
    c.client->on_text("0");
    c.client->on_text(R"(2["join","croom"])");
    return c;
  });
  // Our dynamic room channel must be subscribed before Node publishes to it.
  ASSERT_TRUE(wait_until([&] {
    redis::testing::BlockingRedis cli(redis.port());
    redis::Reply r = cli.call({"PUBSUB", "SHARDNUMSUB", "socket.io#/#croom#"});
    return r.elements.size() == 2 && r.elements[1].integer == 1;
  }));

  // C++ → Node, on the room channel, binary as MessagePack.
  cpp.on(0, [&] { cpp.io->to("room1").emit("chat", "hi", Json::binary(socketio::Bytes{1, 2})); });
  EXPECT_EQ(node.expect_line(R"(CLIENT ["chat","hi",{"bin":"0102"}])"),
            R"(CLIENT ["chat","hi",{"bin":"0102"}])");
  // Node → C++.
  node.send("emit");
  EXPECT_EQ(cpp.wait_packet(c1, "fromnode"),
            R"(51-["fromnode",1,{"_placeholder":true,"num":0},{"d":"1970-01-01T00:00:00.000Z"}])");

  node.send("count");
  EXPECT_EQ(node.expect("COUNT"), "2");
  node.send("fetch");
  EXPECT_NE(node.expect("FETCH").find(node_client), std::string::npos);
  std::promise<std::vector<socketio::SocketInfo>> found;
  cpp.on(0, [&] {
    cpp.io->in("room1").fetch_sockets(
        [&](std::vector<socketio::SocketInfo> v) { found.set_value(std::move(v)); });
  });
  auto ff = found.get_future();
  ASSERT_EQ(ff.wait_for(10s), std::future_status::ready);
  auto socks = ff.get();
  ASSERT_EQ(socks.size(), 1u);
  EXPECT_EQ(socks[0].id, node_client);

  node.send("sse");
  EXPECT_EQ(node.expect("SSE"), R"([{"from":"cpp","got":"from-node"}])");
  std::promise<std::pair<std::string, std::vector<std::string>>> sse;
  cpp.on(0, [&] {
    const Json args[] = {Json("x")};
    cpp.io->of("/").server_side_emit_with_ack("ping", args,
                                              [&](std::string_view e, std::vector<std::string> r) {
                                                sse.set_value({std::string(e), std::move(r)});
                                              });
  });
  auto sf = sse.get_future();
  ASSERT_EQ(sf.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(sf.get().second, std::vector<std::string>{R"({"from":"node","got":"x"})"});

  node.send("ack");
  const std::string ask = cpp.wait_packet(c1, "\"ask\"");
  ASSERT_FALSE(ask.empty());
  const std::string id = ask.substr(1, ask.find('[') - 1);
  cpp.on(1, [&] { c1.client->on_text("3" + id + R"([{"a":1}])"); });
  EXPECT_EQ(node.expect("ACK"), R"([{"a":1}])");

  std::promise<std::pair<std::string, std::vector<std::string>>> acks;
  cpp.on(0, [&] {
    const Json args[] = {Json(1)};
    cpp.io->to("room1").timeout(3000).emit_with_ack(
        "q", args, [&](std::string_view e, std::vector<std::string> r) {
          acks.set_value({std::string(e), std::move(r)});
        });
  });
  auto af = acks.get_future();
  ASSERT_EQ(af.wait_for(10s), std::future_status::ready);
  auto [ack_err, ack_r] = af.get();
  EXPECT_EQ(ack_err, "");
  EXPECT_EQ(ack_r, std::vector<std::string>{R"({"answer":"node-client"})"});
  node.send("quit");
}

}  // namespace
}  // namespace sb::adapter
