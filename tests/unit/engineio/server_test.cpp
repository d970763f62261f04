// The Engine.IO server end to end on two real loops, with the test choosing the loop of every
// client connection: cross-loop polling (handover and parked answers), abandonment, overlap,
// relayed WebSocket upgrades, heartbeat, and errors.

#include "engineio/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/metrics.h"
#include "eio_harness.h"
#include "engineio/sid.h"

namespace sb::engineio {
namespace {

using testing::Client;
using testing::Node;

std::string poll_path(const std::string& sid) {
  return "/engine.io/?EIO=4&transport=polling&sid=" + sid;
}

// Handshakes on loop `loop`; returns the sid.
std::string handshake(Node& n, int loop) {
  Client c(n.loops, n.http, loop);
  c.get("/engine.io/?EIO=4&transport=polling");
  auto r = c.read_reply();
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.substr(0, 9), "0{\"sid\":\"");
  return r->body.substr(9, kSidLength);
}

// A masked client frame (RFC 6455 §5.3), payload < 126 bytes.
std::string client_frame(uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

// Reads one unmasked server text frame with a payload < 126 bytes.
std::string read_text_frame(Client& c) {
  const std::string h = c.read_raw(2);
  if (h.size() < 2) return "<none>";
  return c.read_raw(static_cast<uint8_t>(h[1]) & 0x7f);
}

std::string upgrade_request(const std::string& query) {
  return "GET /engine.io/?" + query +
         " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

bool wait_for(const std::function<bool()>& f, int ms = 3000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

TEST(EngineioServer, SidNamesTheLoopThatAcceptedTheHandshake) {
  Node n;
  for (int loop = 0; loop < 2; ++loop) {
    const std::string sid = handshake(n, loop);
    auto owner = decode_sid(sid);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->loop_id, loop);
    EXPECT_EQ(owner->node_id, 0);
  }
}

TEST(EngineioServer, PollingRequestsOnTheOtherLoopAreHandedOver) {
  Node n;
  const int64_t before = metrics::value_of("sb_engineio_cross_loop_requests_total");
  const std::string sid = handshake(n, 0);
  Client post(n.loops, n.http, 1);
  post.post(poll_path(sid),
            "4hello\x1e"
            "bAQID");
  auto r = post.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->header("content-type"), "text/html");
  Client get(n.loops, n.http, 1);
  get.get(poll_path(sid));
  r = get.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body,
            "4hello\x1e"
            "bAQID");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(r->header("cache-control"), "no-store");
  EXPECT_GE(metrics::value_of("sb_engineio_cross_loop_requests_total") - before, 2);
}

TEST(EngineioServer, ParkedRemoteGetIsAnsweredWhenDataArrives) {
  Node n;
  const std::string sid = handshake(n, 0);
  Client get(n.loops, n.http, 1);
  get.get(poll_path(sid));
  EXPECT_TRUE(get.silent_for(100));  // parked on loop 1, owned by loop 0
  Client post(n.loops, n.http, 0);
  post.post(poll_path(sid),
            "4one\x1e"
            "4two");
  ASSERT_TRUE(post.read_reply());
  auto r = get.read_reply();
  ASSERT_TRUE(r);
  // Both packets of the turn in one answer.
  EXPECT_EQ(r->body,
            "4one\x1e"
            "4two");
}

TEST(EngineioServer, AbandonedRemoteGetClosesTheSession) {
  Node n;
  const std::string sid = handshake(n, 0);
  {
    Client get(n.loops, n.http, 1);
    get.get(poll_path(sid));
    EXPECT_TRUE(get.silent_for(50));
  }  // the client goes away with its GET pending
  ASSERT_TRUE(wait_for([&] { return !n.handler.closed_snapshot().empty(); }));
  EXPECT_EQ(n.handler.closed_snapshot()[0], sid + " transport error");
  Client again(n.loops, n.http, 0);
  again.get(poll_path(sid));
  auto r = again.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
}

TEST(EngineioServer, OverlappingGetsAcrossLoops) {
  Node n;
  const std::string sid = handshake(n, 0);
  Client first(n.loops, n.http, 1);
  first.get(poll_path(sid));
  EXPECT_TRUE(first.silent_for(50));
  Client second(n.loops, n.http, 0);
  second.get(poll_path(sid));
  auto r2 = second.read_reply();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 400);
  auto r1 = first.read_reply();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->body, "1");
  ASSERT_TRUE(wait_for([&] { return !n.handler.closed_snapshot().empty(); }));
  EXPECT_EQ(n.handler.closed_snapshot()[0], sid + " transport error");
}

TEST(EngineioServer, RelayedUpgradeFromTheOtherLoop) {
  Node n;
  const int64_t relayed = metrics::value_of("sb_engineio_relayed_websockets_total");
  const std::string sid = handshake(n, 0);
  Client ws(n.loops, n.http, 1);
  ws.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  auto head = ws.read_reply();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 101);
  // A GET parked on loop 0 meanwhile is released with a noop once the probe is answered.
  Client get(n.loops, n.http, 0);
  get.get(poll_path(sid));
  EXPECT_TRUE(get.silent_for(50));
  ws.send(client_frame(0x1, "2probe"));
  EXPECT_EQ(read_text_frame(ws), "3probe");
  auto noop = get.read_reply();
  ASSERT_TRUE(noop);
  EXPECT_EQ(noop->body, "6");
  ws.send(client_frame(0x1, "5"));
  ws.send(client_frame(0x1, "4relayed"));
  EXPECT_EQ(read_text_frame(ws), "4relayed");
  EXPECT_EQ(metrics::value_of("sb_engineio_relayed_websockets_total") - relayed, 1);
  // Polling is over for this session.
  Client late(n.loops, n.http, 0);
  late.get(poll_path(sid));
  auto r = late.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"code\":3,\"message\":\"Bad request\"}");
  // The server closes a relayed WebSocket session: close frame without a code.
  ws.send(client_frame(0x1, "4__close"));
  EXPECT_EQ(ws.read_raw(2), std::string("\x88\x00", 2));
  ASSERT_TRUE(wait_for([&] { return !n.handler.closed_snapshot().empty(); }));
  EXPECT_EQ(n.handler.closed_snapshot()[0], sid + " forced close");
}

TEST(EngineioServer, SecondProbeIsClosedAfterThe101) {
  Node n;
  const std::string sid = handshake(n, 0);
  Client ws1(n.loops, n.http, 0);
  ws1.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(ws1.read_reply()->status, 101);
  Client ws2(n.loops, n.http, 1);
  ws2.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(ws2.read_reply()->status, 101);
  EXPECT_EQ(ws2.read_raw(2), std::string("\x88\x00", 2));
}

TEST(EngineioServer, HeartbeatTimeoutWithoutPong) {
  Options o;
  o.ping_interval_ms = 100;
  o.ping_timeout_ms = 100;
  Node n(o);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string sid = handshake(n, 1);
  ASSERT_TRUE(wait_for([&] { return !n.handler.closed_snapshot().empty(); }));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(n.handler.closed_snapshot()[0], sid + " ping timeout");
  EXPECT_GE(ms, 170);  // never more than one tick early per deadline
  EXPECT_LE(ms, 400);
}

TEST(EngineioServer, PongKeepsTheSessionAlive) {
  Options o;
  o.ping_interval_ms = 100;
  o.ping_timeout_ms = 100;
  Node n(o);
  const std::string sid = handshake(n, 0);
  for (int i = 0; i < 4; ++i) {
    Client get(n.loops, n.http, i % 2);
    get.get(poll_path(sid));
    auto r = get.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "2");
    Client pong(n.loops, n.http, (i + 1) % 2);
    pong.post(poll_path(sid), "3");
    ASSERT_TRUE(pong.read_reply());
  }
  EXPECT_TRUE(n.handler.closed_snapshot().empty());
}

TEST(EngineioServer, ForeignNodeSidIsUnknown) {
  Node n;
  Client c(n.loops, n.http, 0);
  c.get(poll_path(generate_sid(SidOwner{42, 0})));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
}

TEST(EngineioServer, DuplicateQueryKeysAreRefused) {
  Node n;
  Client c(n.loops, n.http, 0);
  c.get("/engine.io/?EIO=4&transport=polling&transport=polling");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"code\":3,\"message\":\"Bad request\"}");
}

TEST(EngineioServer, DisabledTransportIsUnknown) {
  Options o;
  o.websocket = false;
  Node n(o);
  Client c(n.loops, n.http, 0);
  c.get("/engine.io/?EIO=4&transport=polling");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"upgrades\":[]"), std::string::npos);
  c.send(upgrade_request("EIO=4&transport=websocket"));
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "Transport unknown");
}

TEST(EngineioServer, CookieOnTheHandshakeOnly) {
  Options o;
  o.cookie.enabled = true;
  Node n(o);
  Client c(n.loops, n.http, 0);
  c.get("/engine.io/?EIO=4&transport=polling");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  const std::string sid = r->body.substr(9, kSidLength);
  EXPECT_EQ(r->header("set-cookie"), "io=" + sid + "; Path=/; HttpOnly; SameSite=Lax");
  c.post(poll_path(sid), "4x");
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("set-cookie"), "<none>");
}

TEST(EngineioServer, CloseAllEndsEverySession) {
  Node n;
  const std::string a = handshake(n, 0);
  const std::string b = handshake(n, 1);
  n.eio.close_all();
  ASSERT_TRUE(wait_for([&] { return n.handler.closed_snapshot().size() == 2; }));
  for (const std::string& c : n.handler.closed_snapshot())
    EXPECT_NE(c.find("server shutting down"), std::string::npos) << c;
}

// An Engine.IO WebSocket is one object owned by its connection, linked both ways with its
// session (ws_transport.h). Whichever side is torn down first must leave the other side with no
// pointer to it: the loops first (Node's order, with sessions still open), or the server first
// (as `serve` does: the Socket.IO server is released before the loops).
TEST(EngineioServer, WebSocketsOpenWhenTheLoopsAreTornDownFirst) {
  Node n;
  Client fresh(n.loops, n.http, 0);
  fresh.send(upgrade_request("EIO=4&transport=websocket"));
  ASSERT_EQ(fresh.read_reply()->status, 101);
  EXPECT_EQ(read_text_frame(fresh).substr(0, 9), "0{\"sid\":\"");
  fresh.send(client_frame(0x1, "4fresh"));
  EXPECT_EQ(read_text_frame(fresh), "4fresh");
  // A probe relayed from loop 1, left open.
  const std::string sid = handshake(n, 0);
  Client relayed(n.loops, n.http, 1);
  relayed.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(relayed.read_reply()->status, 101);
  relayed.send(client_frame(0x1, "2probe"));
  EXPECT_EQ(read_text_frame(relayed), "3probe");
  n.loops.stop();  // then the loops are destroyed, then the server
}

TEST(EngineioServer, WebSocketsOpenWhenTheServerIsDestroyedFirst) {
  testing::RecordingHandler handler;
  http::HttpServer http;
  net::LoopGroup loops(2, net::LoopOptions{});
  auto eio = std::make_unique<Server>(Options{}, handler);
  eio->attach(http.router(), loops, http.cors());
  loops.start();
  Client ws(loops, http, 0);
  ws.send(upgrade_request("EIO=4&transport=websocket"));
  ASSERT_EQ(ws.read_reply()->status, 101);
  EXPECT_EQ(read_text_frame(ws).substr(0, 9), "0{\"sid\":\"");
  ws.send(client_frame(0x1, "4hi"));
  EXPECT_EQ(read_text_frame(ws), "4hi");
  // An upgraded polling session on the same loop, also left open.
  const std::string sid = [&] {
    Client c(loops, http, 0);
    c.get("/engine.io/?EIO=4&transport=polling");
    auto r = c.read_reply();
    return r ? r->body.substr(9, kSidLength) : std::string();
  }();
  Client up(loops, http, 0);
  up.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(up.read_reply()->status, 101);
  up.send(client_frame(0x1, "2probe"));
  EXPECT_EQ(read_text_frame(up), "3probe");
  up.send(client_frame(0x1, "5"));
  up.send(client_frame(0x1, "4up"));
  EXPECT_EQ(read_text_frame(up), "4up");
  loops.stop();
  eio.reset();  // frees the sessions; the WebSockets (freed with the loops) forget them
}

}  // namespace
}  // namespace sb::engineio
