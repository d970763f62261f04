#pragma once
// Test support for the Redis adapters: a Switchboard "node" in this process (its own
// net::LoopGroup of two loops, Redis connections and Socket.IO server) with Socket.IO test
// links as clients, driven on their loop threads; every wait is a bounded poll.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "../redis/redis_harness.h"
#include "../socketio/fake_runtime.h"
#include "adapter/classic_adapter.h"
#include "adapter/redis_adapter.h"
#include "adapter/redis_bus.h"
#include "net/loop_group.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::adapter::testing {

using redis::testing::RedisServer;
using redis::testing::wait_until;
using socketio::Json;
using socketio::LoopScope;
using socketio::testing::TestClient;
using namespace std::chrono_literals;

inline RedisAdapterOptions test_options(const std::string& url) {
  RedisAdapterOptions o;
  o.url = url;
  o.server_count_refresh_ms = 200;  // short, so "ready" and "alone" settle quickly
  o.requests_timeout_ms = 5000;
  return o;
}

// One Switchboard node: its loops, Redis connections and Socket.IO server.
struct Node {
  explicit Node(const RedisAdapterOptions& o, std::function<void(socketio::Server&)> setup = {})
      : group(2, net::LoopOptions{}), loops(group) {
    auto b = make_redis_bus(group, o);
    EXPECT_TRUE(b.ok());
    bus = *b;
    socketio::ServerOptions so;
    so.adapter = make_redis_adapter_factory(bus);
    io = std::make_unique<socketio::Server>(loops, so);
    if (setup) setup(*io);
    group.start();
  }
  ~Node() {
    group.stop();
    io.reset();
    bus.reset();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Runs f on `loop` (as the server would: in a LoopScope) and waits for it.
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

  TestClient connect(int loop) {
    return on(loop, [&] {
      TestClient c = socketio::testing::connect_client(*io, loop);
      c.client->on_text("0");
      return c;
    });
  }
  void feed(const TestClient& c, std::string_view text) {
    on(c.client->loop(), [&] { c.client->on_text(text); });
  }
  std::vector<std::string> out(const TestClient& c) {
    return on(c.client->loop(), [&] { return c.link->out; });
  }
  size_t count(const TestClient& c, std::string_view packet) {
    auto o = out(c);
    return static_cast<size_t>(std::count(o.begin(), o.end(), packet));
  }
  bool got(const TestClient& c, std::string_view packet) {
    return wait_until([&] { return count(c, packet) > 0; });
  }
  template <typename A = ClassicRedisAdapter>
  A& adapter(std::string_view nsp = "/") {
    return static_cast<A&>(io->of(nsp).adapter());
  }

  net::LoopGroup group;
  socketio::NetLoops loops;
  std::shared_ptr<RedisBus> bus;
  std::unique_ptr<socketio::Server> io;
};

// Every socket that sends ["join", room] joins it.
inline void joinable(socketio::Server& io) {
  io.on_connection([](socketio::Socket& s) {
    s.on("join", [&s](const socketio::Args& a) { s.join(a.str(0)); });
  });
}

}  // namespace sb::adapter::testing
