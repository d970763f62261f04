// The receive state machine: binary attachments over WebSocket frames and over polling
// payloads, with every split of the packets across POST bodies.

#include "socketio/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/packet.h"
#include "socketio/encoder.h"

namespace sb::socketio {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string str(std::span<const uint8_t> b) {
  return {b.begin(), b.end()};
}

const char* kHeader2 =
    R"(452-["binreply",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}])";

TEST(SocketioDecoder, TextPacketsPassThrough) {
  Decoder d;
  auto r = d.on_text(R"(2["a",1])");
  ASSERT_TRUE(r);
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ((*r)->event, "a");
  EXPECT_TRUE((*r)->attachments.empty());
  EXPECT_FALSE(d.awaiting_attachments());
}

TEST(SocketioDecoder, CollectsWebSocketAttachments) {
  Decoder d;
  std::string header = std::string(kHeader2).substr(1);
  auto r = d.on_text(header);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, nullptr);
  EXPECT_TRUE(d.awaiting_attachments());
  header.assign(header.size(), 'x');  // the caller's buffer is reused before the attachments
  const uint8_t a0[] = {1, 2, 3};
  r = d.on_binary(a0);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, nullptr);
  r = d.on_binary(bytes_of("\x04"));
  ASSERT_TRUE(r);
  ASSERT_NE(*r, nullptr);
  const Packet& p = **r;
  EXPECT_EQ(p.type, PacketType::kBinaryEvent);
  EXPECT_EQ(p.event, "binreply");
  EXPECT_EQ(p.nsp, "/");
  EXPECT_EQ(p.args, R"({"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}})");
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(str(p.attachments[0]), "\x01\x02\x03");
  EXPECT_EQ(str(p.attachments[1]), "\x04");
  EXPECT_FALSE(d.awaiting_attachments());
  // The next packet starts clean.
  r = d.on_text(R"(61-/n,3[{"_placeholder":true,"num":0}])");
  ASSERT_TRUE(r);
  r = d.on_binary({});
  ASSERT_TRUE(r);
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ((*r)->nsp, "/n");
  EXPECT_EQ((*r)->id, 3u);
  ASSERT_EQ((*r)->attachments.size(), 1u);
  EXPECT_TRUE((*r)->attachments[0].empty());
}

TEST(SocketioDecoder, StateErrors) {
  Decoder d;
  auto r = d.on_binary(bytes_of("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "unexpected binary message");
  ASSERT_TRUE(d.on_text(R"(51-["a",{"_placeholder":true,"num":0}])"));
  r = d.on_text(R"(2["b"])");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "text message while awaiting attachments");
  EXPECT_FALSE(d.awaiting_attachments());
  r = d.on_text("2[]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "invalid payload");
  ASSERT_TRUE(d.on_text(R"(51-["a",{"_placeholder":true,"num":0}])"));
  d.reset();
  EXPECT_FALSE(d.awaiting_attachments());
  EXPECT_FALSE(d.on_binary(bytes_of("x")));
}

// Feeds polling bodies through the Engine.IO payload decoder into the Socket.IO decoder.
std::vector<std::string> feed_bodies(Decoder& d, const std::vector<std::string>& bodies) {
  std::vector<std::string> out;
  for (const auto& body : bodies) {
    engineio::PayloadDecoder pd(body);
    engineio::Packet ep;
    for (;;) {
      auto more = pd.next(ep);
      if (!more) {
        out.push_back(std::string("eio error: ") + std::string(more.error().reason));
        return out;
      }
      if (!*more) break;
      auto r = ep.binary ? d.on_binary(ep.bytes) : d.on_text(ep.data);
      if (!r) {
        out.push_back(std::string("sio error: ") + std::string(r.error().reason));
        return out;
      }
      if (*r == nullptr) continue;
      std::string s = (*r)->event + "|" + std::string((*r)->args);
      for (auto a : (*r)->attachments)
        s += "|" + str(a);
      out.push_back(s);
    }
  }
  return out;
}

TEST(SocketioDecoder, PollingEverySplit) {
  // Entries of a polling stream: a text event, a 2-attachment binary event, another event.
  const std::vector<std::string> entries = {R"(42["a",1])", kHeader2, "bAQID",
                                            "bBA==", R"(42["z"])"};
  const std::vector<std::string> want = {
      "a|1",
      R"(binreply|{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}|)"
      "\x01\x02\x03|\x04",
      "z|"};
  for (unsigned cuts = 0; cuts < (1u << (entries.size() - 1)); ++cuts) {
    std::vector<std::string> bodies(1);
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!bodies.back().empty()) bodies.back() += '\x1e';
      bodies.back() += entries[i];
      if (i + 1 < entries.size() && (cuts & (1u << i))) bodies.emplace_back();
    }
    Decoder d;
    EXPECT_EQ(feed_bodies(d, bodies), want) << cuts;
  }
}

TEST(SocketioDecoder, EncodedPollingFormRoundTrips) {
  std::string pkt;
  std::string args;
  append_placeholder(args, 0);
  args += ",";
  append_placeholder(args, 1);
  encode_event(pkt, "/", "up", args, {}, 2);
  EncodedPacket e = encode_for_transports(pkt, {{9, 8}, {}});
  Decoder d;
  auto got = feed_bodies(d, {std::string(e.polling())});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "up|" + args + "|\x09\x08|");
}

TEST(SocketioDecoder, PollingErrors) {
  Decoder d;
  EXPECT_EQ(feed_bodies(d, {"bAQID"}),
            std::vector<std::string>{"sio error: unexpected binary message"});
  Decoder d2;
  auto got = feed_bodies(d2, {std::string(kHeader2) + "\x1e"
                                                      "bAQID\x1e"
                                                      R"(42["x"])"});
  EXPECT_EQ(got, std::vector<std::string>{"sio error: text message while awaiting attachments"});
  Decoder d3;
  got = feed_bodies(d3, {std::string(kHeader2) + "\x1e"
                                                 "b!!"});
  EXPECT_EQ(got, std::vector<std::string>{"eio error: bad base64 in payload"});
}

TEST(SocketioDecoder, ReleasesLargeAttachments) {
  Decoder d;
  ASSERT_TRUE(d.on_text(R"(51-["a",{"_placeholder":true,"num":0}])"));
  std::vector<uint8_t> big(1 << 20, 7);
  auto r = d.on_binary(big);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->attachments[0].size(), big.size());
  auto next = d.on_text(R"(2["b"])");  // the spent packet is dropped here
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->event, "b");
}

}  // namespace
}  // namespace sb::socketio
