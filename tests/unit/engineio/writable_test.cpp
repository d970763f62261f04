// Socket::writable() — whether a packet sent now leaves at once, which decides whether a
// volatile Socket.IO packet is dropped — and the sessions-by-transport gauge, on real loops.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "common/metrics.h"
#include "eio_harness.h"
#include "engineio/server.h"
#include "engineio/sid.h"

namespace sb::engineio {
namespace {

using testing::Client;
using testing::Node;

std::string poll_path(const std::string& sid) {
  return "/engine.io/?EIO=4&transport=polling&sid=" + sid;
}

std::string handshake(Node& n, int loop) {
  Client c(n.loops, n.http, loop);
  c.get("/engine.io/?EIO=4&transport=polling");
  auto r = c.read_reply();
  EXPECT_TRUE(r);
  if (!r) return {};
  return r->body.substr(9, kSidLength);
}

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

// Asks the owner loop. -1: no such session.
int writable(Node& n, int loop, const std::string& sid) {
  int out = -1;
  n.on_loop(loop, [&] {
    if (Socket* s = n.eio.find(n.loops.loop(loop), sid)) out = s->writable() ? 1 : 0;
  });
  return out;
}

int64_t gauge(const char* transport) {
  return metrics::value_of(std::string("sb_engineio_sessions{transport=\"") + transport + "\"}");
}

TEST(EngineioWritable, PollingIsWritableOnlyWhileAGetWaits) {
  Node n;
  const std::string sid = handshake(n, 0);
  EXPECT_EQ(writable(n, 0, sid), 0);  // nothing parked: a packet would wait in the queue
  Client get(n.loops, n.http, 0);
  get.get(poll_path(sid));
  ASSERT_TRUE(wait_for([&] { return writable(n, 0, sid) == 1; }));
  Client post(n.loops, n.http, 0);
  post.post(poll_path(sid), "4x");
  ASSERT_TRUE(post.read_reply());
  auto r = get.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "4x");
  EXPECT_EQ(writable(n, 0, sid), 0);  // the GET was used up
}

TEST(EngineioWritable, WebSocketIsWritableAndAProbeIsNot) {
  Node n;
  // A session opened on a WebSocket.
  Client direct(n.loops, n.http, 1);
  direct.send(upgrade_request("EIO=4&transport=websocket"));
  ASSERT_EQ(direct.read_reply()->status, 101);
  const std::string open = read_text_frame(direct);
  ASSERT_EQ(open.substr(0, 9), "0{\"sid\":\"");
  EXPECT_EQ(writable(n, 1, open.substr(9, kSidLength)), 1);

  // A polling session while its upgrade is probed, and after it.
  const std::string sid = handshake(n, 0);
  Client get(n.loops, n.http, 0);
  get.get(poll_path(sid));
  ASSERT_TRUE(wait_for([&] { return writable(n, 0, sid) == 1; }));
  Client ws(n.loops, n.http, 0);
  ws.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(ws.read_reply()->status, 101);
  ASSERT_TRUE(wait_for([&] { return writable(n, 0, sid) == 0; }));  // probing, GET still parked
  ws.send(client_frame(0x1, "2probe"));
  EXPECT_EQ(read_text_frame(ws), "3probe");
  EXPECT_EQ(get.read_reply()->body, "6");
  EXPECT_EQ(writable(n, 0, sid), 0);
  ws.send(client_frame(0x1, "5"));
  EXPECT_TRUE(wait_for([&] { return writable(n, 0, sid) == 1; }));
}

TEST(EngineioWritable, SessionsGaugeFollowsTheTransport) {
  Node n;
  const int64_t polling = gauge("polling");
  const int64_t websocket = gauge("websocket");
  const std::string sid = handshake(n, 0);
  EXPECT_EQ(gauge("polling") - polling, 1);
  EXPECT_EQ(gauge("websocket") - websocket, 0);
  Client ws(n.loops, n.http, 0);
  ws.send(upgrade_request("EIO=4&transport=websocket&sid=" + sid));
  ASSERT_EQ(ws.read_reply()->status, 101);
  ws.send(client_frame(0x1, "2probe"));
  EXPECT_EQ(read_text_frame(ws), "3probe");
  ws.send(client_frame(0x1, "5"));
  ASSERT_TRUE(wait_for([&] { return gauge("websocket") - websocket == 1; }));
  EXPECT_EQ(gauge("polling") - polling, 0);
  ws.send(client_frame(0x1, "4__close"));
  ASSERT_TRUE(wait_for([&] { return !n.handler.closed_snapshot().empty(); }));
  EXPECT_EQ(gauge("websocket") - websocket, 0);
  EXPECT_EQ(gauge("polling") - polling, 0);
}

}  // namespace
}  // namespace sb::engineio
