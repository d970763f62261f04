// The Socket.IO server driven through fake loops and links: connection rules, middleware,
// events and acks both ways, disconnect reasons.

#include "socketio/server.h"

#include <gtest/gtest.h>

#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/in_memory_adapter.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

void feed_binary(const TestClient& c, std::string_view bytes) {
  LoopScope scope(c.client->loop());
  c.client->on_binary(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// `0{"sid":"…"}` → the sid.
std::string sid_of(std::string_view reply) {
  const auto p = reply.find("\"sid\":\"");
  if (p == std::string_view::npos) return {};
  const auto b = p + 7;
  return std::string(reply.substr(b, reply.find('"', b) - b));
}

struct ServerTest : ::testing::Test {
  FakeLoops loops{2};
  Server io{loops};
  InMemoryAdapter& memory_adapter() { return static_cast<InMemoryAdapter&>(io.of("/").adapter()); }
};

TEST_F(ServerTest, ConnectRepliesWithAFreshSocketId) {
  std::string seen;
  io.on_connection([&](Socket& s) { seen = s.id(); });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  ASSERT_EQ(c.out().size(), 1u);
  EXPECT_EQ(c.out()[0].substr(0, 9), "0{\"sid\":\"");
  EXPECT_EQ(sid_of(c.out()[0]), seen);
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(io.of("/").local_count(0), 1u);
  Socket* s = io.of("/").find(0, seen);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->in(seen));  // its own room
  EXPECT_EQ(s->auth().json(), "{}");
}

// The id is held in the socket and the own room is implicit: rooms() lists it first, then the
// rooms joined, and it can be neither joined twice nor left.
TEST_F(ServerTest, RoomsListTheOwnRoomFirstThenTheJoinedOnes) {
  Socket* sock = nullptr;
  io.on_connection([&](Socket& s) { sock = &s; });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  ASSERT_NE(sock, nullptr);
  const std::string id(sock->id());
  EXPECT_EQ(id, sid_of(c.out()[0]));
  EXPECT_EQ(sock->rooms().size(), 1u);
  {
    LoopScope scope(0);
    sock->join("a");
    sock->join("b");
    sock->join("a");
    sock->join(id);
    sock->leave(id);
  }
  std::vector<std::string> listed;
  for (const std::string& r : sock->rooms())
    listed.push_back(r);
  EXPECT_EQ(listed, (std::vector<std::string>{id, "a", "b"}));
  EXPECT_EQ(static_cast<std::vector<std::string>>(sock->rooms()), listed);
  EXPECT_EQ(sock->rooms().at(2), "b");
  EXPECT_TRUE(sock->in(id));
  EXPECT_TRUE(sock->in("b"));
  {
    LoopScope scope(0);
    sock->leave("a");
  }
  EXPECT_FALSE(sock->in("a"));
  EXPECT_EQ(sock->rooms().size(), 2u);
  EXPECT_EQ(memory_adapter().room_size(0, "b"), 1u);
  EXPECT_EQ(memory_adapter().room_size(0, id), 1u);
  feed(c, "1");  // leaves the namespace: only the own room stays listed
  EXPECT_EQ(sock->rooms().size(), 1u);
  EXPECT_EQ(memory_adapter().room_size(0, "b"), 0u);
  loops.run();
}

TEST_F(ServerTest, AuthPayloadReachesMiddleware) {
  std::string token;
  io.of("/admin").use([&](Socket& s, Next next) {
    token = s.auth().str(0, "token");
    next();
  });
  TestClient c = testing::connect_client(io, 1);
  feed(c, "0/admin,{\"token\":\"abc\"}");
  EXPECT_EQ(token, "abc");
  ASSERT_EQ(c.out().size(), 1u);
  EXPECT_EQ(c.out()[0].rfind("0/admin,{\"sid\":\"", 0), 0u);
}

TEST_F(ServerTest, UnknownNamespaceIsRefusedAndConnectionStays) {
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0/random,");
  ASSERT_EQ(c.out().size(), 1u);
  EXPECT_EQ(c.out()[0], "4/random,{\"message\":\"Invalid namespace\"}");
  EXPECT_TRUE(c.link->is_open());
  feed(c, "0");
  EXPECT_EQ(c.out().size(), 2u);
}

TEST_F(ServerTest, MiddlewareRejectsWithMessageAndData) {
  bool connected = false;
  Namespace& priv = io.of("/priv");
  priv.use([](Socket&, Next next) { next(); });
  priv.use([](Socket&, Next next) { next(ConnectError{"not authorized", "{\"reason\":\"x\"}"}); });
  priv.on_connection([&](Socket&) { connected = true; });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0/priv,");
  ASSERT_EQ(c.out().size(), 1u);
  EXPECT_EQ(c.out()[0], "4/priv,{\"message\":\"not authorized\",\"data\":{\"reason\":\"x\"}}");
  EXPECT_FALSE(connected);
  EXPECT_TRUE(c.link->is_open());
  EXPECT_EQ(priv.local_count(0), 0u);
  // It may try again.
  feed(c, "0/priv,");
  EXPECT_EQ(c.out().size(), 2u);
}

TEST_F(ServerTest, AsyncMiddlewareContinuesLaterAndOnlyOnce) {
  std::optional<Next> held;
  int connections = 0;
  io.use([&](Socket&, Next next) { held = next; });
  io.on_connection([&](Socket&) { ++connections; });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  EXPECT_TRUE(c.out().empty());
  {
    LoopScope scope(0);
    (*held)();
    (*held)();  // a second call is ignored
    (*held)(ConnectError{"late", ""});
  }
  EXPECT_EQ(connections, 1);
  ASSERT_EQ(c.out().size(), 1u);
  EXPECT_EQ(c.out()[0].rfind("0{\"sid\"", 0), 0u);
}

TEST_F(ServerTest, PacketsBeforeConnectCloseTheConnection) {
  TestClient c = testing::connect_client(io, 0);
  feed(c, "2[\"hello\"]");
  EXPECT_FALSE(c.link->is_open());
}

TEST_F(ServerTest, DuplicateConnectClosesTheConnection) {
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  feed(c, "0");
  EXPECT_FALSE(c.link->is_open());
}

TEST_F(ServerTest, MalformedAndReservedPacketsClose) {
  for (std::string_view bad :
       {"4abc", "2{}", "2[\"connect\"]", "2[\"disconnecting\",1]", "0\"abc\"", "9"}) {
    std::string reason;
    io.on_connection([&](Socket& s) { s.on_disconnect([&](std::string_view r) { reason = r; }); });
    TestClient c = testing::connect_client(io, 0);
    feed(c, "0");
    feed(c, bad);
    EXPECT_FALSE(c.link->is_open()) << bad;
    loops.run();
  }
}

TEST_F(ServerTest, UnexpectedBinaryCloses) {
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  feed_binary(c, "\x01\x02");
  EXPECT_FALSE(c.link->is_open());
}

TEST_F(ServerTest, EventWithAckAndErrorIsAnOrdinaryEvent) {
  std::string error_arg;
  io.on_connection([&](Socket& s) {
    s.on("echo", [](const Args& a, Ack ack) { ack({a.value(0), Json(a.size())}); });
    s.on("error", [&](const Args& a) { error_arg = a.str(0); });
  });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  feed(c, "27[\"echo\",{\"a\":[1,\"x\"]}]");
  EXPECT_EQ(c.last(), "37[{\"a\":[1,\"x\"]},1]");
  feed(c, "2[\"error\",\"boom\"]");
  EXPECT_EQ(error_arg, "boom");
  EXPECT_TRUE(c.link->is_open());
  // No handler: no ack.
  const size_t n = c.out().size();
  feed(c, "28[\"nobody\"]");
  EXPECT_EQ(c.out().size(), n);
}

TEST_F(ServerTest, EmitWithAckGetsTheReply) {
  Socket* sock = nullptr;
  io.on_connection([&](Socket& s) { sock = &s; });
  TestClient c = testing::connect_client(io, 1);
  feed(c, "0");
  std::string err = "unset";
  std::string got;
  {
    LoopScope scope(1);
    const Json args[] = {Json("q"), Json(2)};
    sock->emit_with_ack("ask", args, 1000, [&](std::string_view e, const Args& a) {
      err = e;
      got = a.json();
    });
  }
  EXPECT_EQ(c.last(), "20[\"ask\",\"q\",2]");
  feed(c, "30[42,\"x\"]");
  EXPECT_EQ(err, "");
  EXPECT_EQ(got, "42,\"x\"");
  // A second ack with the same id is ignored.
  feed(c, "30[1]");
  EXPECT_EQ(got, "42,\"x\"");
}

TEST_F(ServerTest, EmitWithAckTimesOut) {
  Socket* sock = nullptr;
  io.on_connection([&](Socket& s) { sock = &s; });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  std::string err;
  {
    LoopScope scope(0);
    sock->emit_with_ack("ask", {}, 500, [&](std::string_view e, const Args&) { err = e; });
  }
  loops.advance(400);
  EXPECT_EQ(err, "");
  loops.advance(200);
  EXPECT_EQ(err, "operation has timed out");
  feed(c, "30[1]");  // late: ignored
  EXPECT_EQ(err, "operation has timed out");
}

TEST_F(ServerTest, DisconnectReasons) {
  std::vector<std::string> reasons;
  std::vector<Socket*> sockets;
  io.on_connection([&](Socket& s) {
    sockets.push_back(&s);
    s.on_disconnect([&](std::string_view r) { reasons.emplace_back(r); });
  });
  TestClient a = testing::connect_client(io, 0);
  feed(a, "0");
  feed(a, "1");
  EXPECT_EQ(reasons.back(), "client namespace disconnect");
  EXPECT_TRUE(a.link->is_open());  // leaving every namespace keeps the connection

  feed(a, "0");
  {
    LoopScope scope(0);
    sockets.back()->disconnect();
  }
  EXPECT_EQ(reasons.back(), "server namespace disconnect");
  EXPECT_EQ(a.last(), "1");
  EXPECT_TRUE(a.link->is_open());

  feed(a, "0");
  io.closed(*a.client, "transport close");
  EXPECT_EQ(reasons.back(), "transport close");
  EXPECT_EQ(io.client_count(0), 0u);
  loops.run();  // frees them

  TestClient b = testing::connect_client(io, 1);
  feed(b, "0");
  {
    LoopScope scope(1);
    sockets.back()->disconnect(true);
  }
  EXPECT_EQ(reasons.back(), "server namespace disconnect");
  EXPECT_EQ(b.last(), "1");
  EXPECT_FALSE(b.link->is_open());
  EXPECT_EQ(reasons.size(), 4u);
}

TEST_F(ServerTest, ConnectTimeoutClosesIdleClients) {
  TestClient idle = testing::connect_client(io, 0);
  TestClient joined = testing::connect_client(io, 0);
  feed(joined, "0");
  loops.advance(44000);
  EXPECT_TRUE(idle.link->is_open());
  loops.advance(2000);
  EXPECT_FALSE(idle.link->is_open());
  EXPECT_TRUE(joined.link->is_open());
}

TEST_F(ServerTest, DynamicNamespaceByPattern) {
  Namespace& parent = io.of(std::regex("^/room-\\d+$"));
  std::vector<std::string> names;
  int mw = 0;
  parent.use([&](Socket&, Next next) {
    ++mw;
    next();
  });
  parent.on_connection([&](Socket& s) { names.push_back(s.nsp().name()); });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0/room-12,");
  feed(c, "0/room-x,");
  EXPECT_EQ(names, std::vector<std::string>{"/room-12"});
  EXPECT_EQ(mw, 1);
  EXPECT_EQ(c.last(), "4/room-x,{\"message\":\"Invalid namespace\"}");
  ASSERT_NE(io.find("/room-12"), nullptr);
  EXPECT_EQ(io.find("/room-12")->parent(), &parent);
  EXPECT_EQ(parent.children().size(), 1u);
  // Broadcasting on the parent reaches the children.
  {
    LoopScope scope(0);
    parent.emit("hi", 1);
  }
  EXPECT_EQ(c.last(), "2/room-12,[\"hi\",1]");
}

TEST_F(ServerTest, BinaryAttachmentsBothWays) {
  std::string got;
  io.on_connection([&](Socket& s) {
    s.on("bin", [&s, &got](const Args& a, Ack ack) {
      auto b = a.binary(0);
      if (b) got.assign(b->begin(), b->end());
      ack({a.value(0)});
      s.emit("nested", json::object({{"data", Json::binary(std::vector<uint8_t>{'x', 'y'})}}),
             Json::binary(std::vector<uint8_t>{'z'}));
    });
  });
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  feed(c, "51-3[\"bin\",{\"_placeholder\":true,\"num\":0}]");
  EXPECT_EQ(c.out().size(), 1u);  // awaiting the attachment
  feed_binary(c, "abc");
  EXPECT_EQ(got, "abc");
  ASSERT_GE(c.out().size(), 5u);
  const auto& o = c.out();
  EXPECT_EQ(o[1], "61-3[{\"_placeholder\":true,\"num\":0}]");
  EXPECT_EQ(o[2], "<bin:abc>");
  EXPECT_EQ(o[3],
            "52-[\"nested\",{\"data\":{\"_placeholder\":true,\"num\":0}},"
            "{\"_placeholder\":true,\"num\":1}]");
  EXPECT_EQ(o[4], "<bin:xy>");
  EXPECT_EQ(o[5], "<bin:z>");
}

}  // namespace
}  // namespace sb::socketio
