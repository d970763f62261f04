// Per-socket packet middleware (Node's socket.use): order, synchronous and asynchronous next(),
// refusal reported to the socket's own "error" listener (never to the client), acks kept,
// ACK packets not filtered, a socket gone before next().

#include <gtest/gtest.h>

#include <optional>

#include "common/metrics.h"
#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

struct UseTest : ::testing::Test {
  FakeLoops loops{1};
  Server io{loops};
  std::vector<std::string> log;
  std::optional<PacketNext> parked;  // an asynchronous middleware's continuation
  Socket* socket = nullptr;
  TestClient c;

  void connect(const std::function<void(Socket&)>& setup) {
    io.on_connection([this, setup](Socket& s) {
      socket = &s;
      s.on("ev", [this](const Args& a, const Ack& ack) {
        log.push_back("handler " + std::string(a.json()));
        ack({"ok"});
      });
      s.on("error", [this](const Args& a) { log.push_back("error " + std::string(a.json())); });
      setup(s);
    });
    c = testing::connect_client(io, 0);
    feed(c, "0");
    ASSERT_NE(socket, nullptr);
  }
};

TEST_F(UseTest, MiddlewaresRunInOrderBeforeTheHandler) {
  connect([this](Socket& s) {
    s.use([this](std::string_view ev, const Args& a, const PacketNext& next) {
      log.push_back("first " + std::string(ev) + " " + std::string(a.json()));
      next();
    });
    s.use([this](std::string_view ev, const Args&, const PacketNext& next) {
      log.push_back("second " + std::string(ev));
      next();
    });
  });
  feed(c, R"(21["ev",1,"x"])");
  EXPECT_EQ(log, (std::vector<std::string>{"first ev 1,\"x\"", "second ev", "handler 1,\"x\""}));
  EXPECT_EQ(c.last(), R"(31["ok"])");  // the ack still reaches the client
}

TEST_F(UseTest, RefusalGoesToTheSocketsErrorListenerNotTheClient) {
  const int64_t before = metrics::value_of("sb_socketio_packet_middleware_errors_total");
  connect([this](Socket& s) {
    s.use([](std::string_view ev, const Args&, const PacketNext& next) {
      if (ev == "ev") return next("unauthorized event", R"({"code":7})");
      next();
    });
    s.use([this](std::string_view, const Args&, const PacketNext& next) {
      log.push_back("second");
      next();
    });
  });
  const size_t sent = c.out().size();
  feed(c, R"(25["ev",1])");
  EXPECT_EQ(
      log,
      (std::vector<std::string>{R"(error {"message":"unauthorized event","data":{"code":7}})"}));
  EXPECT_EQ(c.out().size(), sent);  // nothing to the client: no ack, no error packet
  EXPECT_TRUE(c.link->is_open());
  EXPECT_EQ(metrics::value_of("sb_socketio_packet_middleware_errors_total") - before, 1);
  // Other events pass.
  feed(c, R"(2["other"])");
  EXPECT_EQ(log.back(), "second");
}

TEST_F(UseTest, AsynchronousNextResumesTheChainWithTheArguments) {
  connect([this](Socket& s) {
    s.use([this](std::string_view ev, const Args&, PacketNext next) {
      if (ev == "ev") {
        parked = std::move(next);  // answers later
      } else {
        next();
      }
    });
    s.use([this](std::string_view ev, const Args& a, const PacketNext& next) {
      log.push_back("second " + std::string(ev) + " " + std::string(a.json()));
      next();
    });
  });
  feed(c, R"(28["ev",{"big":"payload"}])");
  EXPECT_TRUE(log.empty());
  ASSERT_TRUE(parked.has_value());
  // The decoder moves on (its buffers are reused) before the middleware answers.
  feed(c, R"(2["unrelated","zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"])");
  EXPECT_EQ(log,
            (std::vector<std::string>{R"(second unrelated "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")"}));
  log.clear();
  const PacketNext n = *parked;
  n();
  n();  // a second call does nothing
  n("too late");
  EXPECT_EQ(log, (std::vector<std::string>{R"(second ev {"big":"payload"})",
                                           R"(handler {"big":"payload"})"}));
  EXPECT_EQ(c.last(), R"(38["ok"])");
}

TEST_F(UseTest, NextAfterTheSocketLeftDoesNothing) {
  connect([this](Socket& s) {
    s.use([this](std::string_view ev, const Args&, PacketNext next) {
      if (ev == "ev") parked = std::move(next);
    });
  });
  feed(c, R"(2["ev"])");
  ASSERT_TRUE(parked.has_value());
  feed(c, "1");  // the client leaves the namespace
  loops.run();
  (*parked)();
  EXPECT_TRUE(log.empty());
}

TEST_F(UseTest, AcksFromTheClientAreNotFiltered) {
  connect([this](Socket& s) {
    s.use([this](std::string_view ev, const Args&, const PacketNext& next) {
      log.push_back("use " + std::string(ev));
      next("no");
    });
  });
  std::string reply;
  socket->emit_with_ack("q", {}, 0, [&](std::string_view, const Args& a) { reply = a.json(); });
  const std::string sent = c.last();  // 20["q"]
  ASSERT_EQ(sent.substr(0, 2), "20");
  feed(c, R"(30["a"])");
  EXPECT_EQ(reply, R"("a")");
  EXPECT_TRUE(log.empty());
}

TEST_F(UseTest, AMiddlewareThatDisconnectsStopsTheChain) {
  connect([](Socket& s) {
    s.use([](std::string_view, const Args&, const PacketNext& next) { next(); });
  });
  // Disconnects the socket, then calls next anyway: the handler must not run.
  socket->use([this](std::string_view, const Args&, const PacketNext& next) {
    socket->disconnect();
    next();
  });
  feed(c, R"(2["ev"])");
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace sb::socketio
