// Socket.IO metrics: packets and bytes counted once per packet where encoded/decoded (a
// broadcast's receivers as deliveries), disconnects by Node's reason.

#include "socketio/sio_metrics.h"

#include <gtest/gtest.h>

#include "common/metrics.h"
#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/server.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

int64_t v(const std::string& name) {
  const int64_t x = metrics::value_of(name);
  EXPECT_GE(x, 0) << name << " is not registered";
  return x;
}

int64_t reason(const std::string& r) {
  return v("sb_socketio_disconnects_total{reason=\"" + r + "\"}");
}

TEST(SioMetrics, PacketsAndBytesBothWays) {
  FakeLoops loops{1};
  Server io{loops};
  io.on_connection([](Socket& s) {
    s.on("echo", [&s](const Args& a) { s.emit("echo", Json::raw(a.raw(0))); });
  });
  const int64_t in0 = v("sb_socketio_packets_received_total");
  const int64_t inb0 = v("sb_socketio_received_bytes_total");
  const int64_t out0 = v("sb_socketio_packets_sent_total");
  const int64_t outb0 = v("sb_socketio_sent_bytes_total");
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");                  // 1 packet, 1 byte in; the CONNECT reply out
  feed(c, R"(2["echo","hi"])");  // 14 bytes in; 14 out
  EXPECT_EQ(v("sb_socketio_packets_received_total") - in0, 2);
  EXPECT_EQ(v("sb_socketio_received_bytes_total") - inb0, 1 + 14);
  EXPECT_EQ(v("sb_socketio_packets_sent_total") - out0, 2);
  EXPECT_EQ(v("sb_socketio_sent_bytes_total") - outb0,
            static_cast<int64_t>(c.out()[0].size() + c.out()[1].size()));
  EXPECT_EQ(c.out()[1], R"(2["echo","hi"])");
}

TEST(SioMetrics, BroadcastDeliveriesArePerReceiver) {
  FakeLoops loops{2};
  Server io{loops};
  std::vector<TestClient> cs;
  for (int i = 0; i < 5; ++i) {
    cs.push_back(testing::connect_client(io, i % 2));
    feed(cs.back(), "0");
  }
  const int64_t d0 = v("sb_socketio_broadcast_deliveries_total");
  const int64_t out0 = v("sb_socketio_packets_sent_total");
  {
    LoopScope scope(0);
    io.emit("news", 1);
  }
  loops.run();
  EXPECT_EQ(v("sb_socketio_broadcast_deliveries_total") - d0, 5);
  // Deliveries are not packets encoded: unicast counters do not move per receiver.
  EXPECT_LE(v("sb_socketio_packets_sent_total") - out0, 1);
}

TEST(SioMetrics, DisconnectsByReason) {
  FakeLoops loops{1};
  Server io{loops};
  io.on_connection([](Socket& s) { s.on("bye", [&s](const Args&) { s.disconnect(); }); });
  const int64_t client0 = reason("client namespace disconnect");
  const int64_t server0 = reason("server namespace disconnect");
  const int64_t transport0 = reason("transport close");
  const int64_t forced0 = reason("forced close");
  TestClient a = testing::connect_client(io, 0);
  feed(a, "0");
  feed(a, "1");
  TestClient b = testing::connect_client(io, 0);
  feed(b, "0");
  feed(b, R"(2["bye"])");
  TestClient c = testing::connect_client(io, 0);
  feed(c, "0");
  {
    LoopScope scope(0);
    io.closed(*c.client, "transport close");
  }
  TestClient d = testing::connect_client(io, 0);
  feed(d, "0");
  feed(d, "2garbage");  // a decode error: forced close
  TestClient never = testing::connect_client(io, 0);
  {
    LoopScope scope(0);
    io.closed(*never.client, "transport close");  // never connected: not a disconnect
  }
  loops.run();
  EXPECT_EQ(reason("client namespace disconnect") - client0, 1);
  EXPECT_EQ(reason("server namespace disconnect") - server0, 1);
  EXPECT_EQ(reason("transport close") - transport0, 1);
  EXPECT_EQ(reason("forced close") - forced0, 1);
}

}  // namespace
}  // namespace sb::socketio
