// Routing decisions of every mode against a pool whose health, drain state and node ids the test
// sets: sids go to their node, handshakes to the least-loaded eligible node, drains never move a
// session, cookies are honoured over sids, ip-hash follows the ring.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lb/admin.h"
#include "lb/backend_pool.h"
#include "lb/health_checker.h"

namespace sb::lb {
namespace {

// A sid in src/engineio/sid.h's layout, built here independently: tag, node, loop, 10 bytes, CRC.
std::string make_sid(uint16_t node, uint8_t fill = 0x42) {
  uint8_t b[15] = {0xB5, static_cast<uint8_t>(node >> 8), static_cast<uint8_t>(node), 1};
  for (int i = 4; i < 14; ++i)
    b[i] = static_cast<uint8_t>(fill + i);
  uint8_t crc = 0;
  for (int i = 0; i < 14; ++i) {
    crc ^= b[i];
    for (int k = 0; k < 8; ++k)
      crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  b[14] = crc;
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s;
  for (int i = 0; i < 15; i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    for (int sh = 18; sh >= 0; sh -= 6)
      s.push_back(a[(v >> sh) & 63]);
  }
  return s;
}

BackendPool make_pool(int n) {
  std::vector<std::unique_ptr<Backend>> v;
  for (int i = 0; i < n; ++i) {
    auto b = std::make_unique<Backend>();
    EXPECT_TRUE(resolve_backend("127.0.0.1:" + std::to_string(4000 + i), *b).ok());
    b->node_id = 10 + i;
    v.push_back(std::move(b));
  }
  return BackendPool(std::move(v));
}

TEST(SidNode, DecodesOursRejectsOthers) {
  EXPECT_EQ(sid_node(make_sid(7)), 7);
  EXPECT_EQ(sid_node(make_sid(65535)), 65535);
  std::string s = make_sid(7);
  s[10] = s[10] == 'A' ? 'B' : 'A';  // one altered character: the CRC catches it
  EXPECT_FALSE(sid_node(s));
  EXPECT_FALSE(sid_node("abcdefghijklmnopqrst"));  // a foreign (Node-style) id
  EXPECT_FALSE(sid_node("short"));
  EXPECT_FALSE(sid_node(std::string(20, '*')));
}

TEST(QueryParam, Finds) {
  EXPECT_EQ(query_param("EIO=4&transport=polling&sid=abc", "sid"), "abc");
  EXPECT_EQ(query_param("sid=abc&t=1", "sid"), "abc");
  EXPECT_EQ(query_param("xsid=abc", "sid"), "");
  EXPECT_EQ(query_param("", "sid"), "");
  EXPECT_EQ(percent_decode("127.0.0.1%3A80"), "127.0.0.1:80");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

TEST(Route, SidModeSendsSessionsToTheirNodeAndHandshakesToTheLeastLoaded) {
  BackendPool pool = make_pool(3);
  for (int i = 0; i < 3; ++i) {
    const auto d = route(pool, Mode::kSid, {"1.2.3.4", make_sid(10 + i), {}});
    EXPECT_EQ(d.backend, i);
  }
  pool.at(0).active = 5;
  pool.at(1).active = 1;
  pool.at(2).active = 3;
  EXPECT_EQ(route(pool, Mode::kSid, {"1.2.3.4", "", {}}).backend, 1);
  pool.at(1).drained = true;  // drained: no new sessions, but its sessions stay
  EXPECT_EQ(route(pool, Mode::kSid, {"1.2.3.4", "", {}}).backend, 2);
  EXPECT_EQ(route(pool, Mode::kSid, {"1.2.3.4", make_sid(11), {}}).backend, 1);
  pool.at(2).healthy = false;
  EXPECT_EQ(route(pool, Mode::kSid, {"1.2.3.4", "", {}}).backend, 0);
  pool.at(0).healthy = false;
  EXPECT_EQ(route(pool, Mode::kSid, {"1.2.3.4", "", {}}).backend, -1);
}

TEST(Route, IdleBackendsShareHandshakes) {
  BackendPool pool = make_pool(3);
  std::set<int> seen;
  for (int i = 0; i < 6; ++i)
    seen.insert(route(pool, Mode::kSid, {"x", "", {}}).backend);
  EXPECT_EQ(seen.size(), 3U);
}

TEST(Route, CookieModeHonoursTheCookieThenTheSid) {
  BackendPool pool = make_pool(3);
  const std::string t2 = pool.at(2).token;
  auto d = route(pool, Mode::kCookie, {"x", make_sid(10), t2});
  EXPECT_EQ(d.backend, 2);
  EXPECT_FALSE(d.set_cookie);
  d = route(pool, Mode::kCookie, {"x", make_sid(11), std::string_view("bogus")});
  EXPECT_EQ(d.backend, 1);
  d = route(pool, Mode::kCookie, {"x", "", {}});
  EXPECT_TRUE(d.set_cookie);
  pool.at(2).drained = true;
  EXPECT_EQ(route(pool, Mode::kCookie, {"x", "", t2}).backend, 2);  // pinned clients stay
}

TEST(Route, IpHashFollowsTheRingAndSkipsDeadNodes) {
  BackendPool pool = make_pool(3);
  const int home = route(pool, Mode::kIpHash, {"10.1.1.1", "", {}}).backend;
  ASSERT_GE(home, 0);
  EXPECT_EQ(route(pool, Mode::kIpHash, {"10.1.1.1", make_sid(99), {}}).backend, home);
  pool.at(static_cast<size_t>(home)).healthy = false;
  const int other = route(pool, Mode::kIpHash, {"10.1.1.1", "", {}}).backend;
  EXPECT_NE(other, home);
  pool.at(static_cast<size_t>(home)).healthy = true;  // recovered: the key comes home
  EXPECT_EQ(route(pool, Mode::kIpHash, {"10.1.1.1", "", {}}).backend, home);
  // Drained home: the handshake went past it; the session follows the handshake's path.
  pool.at(static_cast<size_t>(home)).drained = true;
  const int detour = route(pool, Mode::kIpHash, {"10.1.1.1", "", {}}).backend;
  EXPECT_NE(detour, home);
  EXPECT_EQ(route(pool, Mode::kIpHash, {"10.1.1.1", make_sid(10 + detour), {}}).backend, detour);
  EXPECT_EQ(route(pool, Mode::kIpHash, {"10.1.1.1", make_sid(10 + home), {}}).backend, home);
}

TEST(Route, RoundRobinIgnoresStickiness) {
  BackendPool pool = make_pool(3);
  std::set<int> seen;
  for (int i = 0; i < 3; ++i)
    seen.insert(route(pool, Mode::kRoundRobin, {"x", make_sid(10), {}}).backend);
  EXPECT_EQ(seen.size(), 3U);
}

TEST(NodeIdFromResponse, HeaderOrHandshakeSid) {
  EXPECT_EQ(node_id_from_response("HTTP/1.1 200 OK\r\nX-Switchboard-Node: 12\r\n\r\nok"), 12);
  EXPECT_EQ(node_id_from_response("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n0{\"sid\":\"" +
                                  make_sid(9) + "\",\"upgrades\":[]}"),
            9);
  EXPECT_EQ(node_id_from_response("HTTP/1.1 200 OK\r\n\r\nok"), -1);
  EXPECT_EQ(node_id_from_response("HTTP/1.1 200 OK\r\nX-Switchboard-Node: x\r\n\r\n"), -1);
  EXPECT_EQ(node_id_from_response("garbage"), -1);
}

TEST(Mode, Names) {
  for (auto m : {Mode::kIpHash, Mode::kCookie, Mode::kSid, Mode::kRoundRobin})
    EXPECT_EQ(parse_mode(mode_name(m)), m);
  EXPECT_FALSE(parse_mode("random"));
}

}  // namespace
}  // namespace sb::lb
