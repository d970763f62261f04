// Engine.IO packet codec: text/binary packets, polling payloads (every split point of a body
// into packets is exercised by the payload round trip), open packet and error bodies.

#include "engineio/packet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb::engineio {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(EngineioPacket, DecodesEveryType) {
  for (int t = 0; t <= 6; ++t) {
    std::string text(1, static_cast<char>('0' + t));
    text += "data";
    auto p = decode_text_packet(text);
    ASSERT_TRUE(p) << text;
    EXPECT_EQ(static_cast<int>(p->type), t);
    EXPECT_FALSE(p->binary);
    EXPECT_EQ(p->data, "data");
  }
  auto probe = decode_text_packet("2probe");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->type, PacketType::kPing);
  EXPECT_EQ(probe->data, "probe");
  auto bare = decode_text_packet("6");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->data, "");
}

TEST(EngineioPacket, RefusesBadText) {
  for (std::string_view bad : {"", "7", "9x", "b", "bAQID", "x", "/", "\x1e"}) {
    auto p = decode_text_packet(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, Errc::kProtocol);
  }
  EXPECT_EQ(decode_text_packet("").error().reason, "empty packet");
  EXPECT_EQ(decode_text_packet("7").error().reason, "unknown packet type");
}

TEST(EngineioPacket, BinaryFrameIsOneMessage) {
  const uint8_t raw[] = {0, 1, 2, 0xff};
  Packet p = decode_binary_packet(raw);
  EXPECT_EQ(p.type, PacketType::kMessage);
  EXPECT_TRUE(p.binary);
  EXPECT_EQ(p.bytes.size(), 4u);
  EXPECT_EQ(p.bytes.data(), raw);
}

TEST(EngineioPacket, EncodesText) {
  std::string out;
  encode_text_packet(out, PacketType::kMessage, "hello");
  encode_text_packet(out, PacketType::kPong, "probe");
  encode_text_packet(out, PacketType::kNoop);
  EXPECT_EQ(out, "4hello3probe6");
  EXPECT_EQ(packet_type_name(PacketType::kUpgrade), "upgrade");
}

struct Decoded {
  std::vector<std::string> items;  // "T<digit><data>" or "B<bytes>"
  std::string error;
};

Decoded decode_all(std::string_view body, size_t max_packets = kDefaultMaxPayloadPackets) {
  Decoded d;
  PayloadDecoder dec(body, max_packets);
  Packet p;
  for (;;) {
    auto r = dec.next(p);
    if (!r) {
      d.error = r.error().reason;
      return d;
    }
    if (!*r) return d;
    if (p.binary) {
      d.items.push_back("B" + std::string(p.bytes.begin(), p.bytes.end()));
    } else {
      d.items.push_back("T" + std::string(1, packet_type_char(p.type)) + std::string(p.data));
    }
  }
}

TEST(EngineioPayload, DecodesMixedBody) {
  auto d = decode_all(
      "4hello\x1e"
      "2\x1e"
      "bAQID\x1e"
      "4\x1e"
      "b");
  EXPECT_EQ(d.error, "");
  ASSERT_EQ(d.items.size(), 5u);
  EXPECT_EQ(d.items[0], "T4hello");
  EXPECT_EQ(d.items[1], "T2");
  EXPECT_EQ(d.items[2], std::string("B\x01\x02\x03"));
  EXPECT_EQ(d.items[3], "T4");
  EXPECT_EQ(d.items[4], "B");
  // Exhausted decoders stay exhausted.
  PayloadDecoder dec("6");
  Packet p;
  ASSERT_TRUE(*dec.next(p));
  EXPECT_FALSE(*dec.next(p));
  EXPECT_FALSE(*dec.next(p));
}

TEST(EngineioPayload, RefusesBadBodies) {
  struct Case {
    std::string_view body;
    std::string_view error;
    size_t delivered;
  };
  const Case cases[] = {
      {"", "empty packet", 0},
      {"4a\x1e", "empty packet", 1},
      {"\x1e"
       "4a",
       "empty packet", 0},
      {"4a\x1e\x1e"
       "4b",
       "empty packet", 1},
      {"9", "unknown packet type", 0},
      {"4a\x1ex", "unknown packet type", 1},
      {"bAQ=x", "bad base64 in payload", 0},
      {"b!!!!", "bad base64 in payload", 0},
      {"4ok\x1e"
       "bAQ",
       "bad base64 in payload", 1},
      {"bAR==", "bad base64 in payload", 0},
  };
  for (const auto& c : cases) {
    auto d = decode_all(c.body);
    EXPECT_EQ(d.error, c.error) << c.body;
    EXPECT_EQ(d.items.size(), c.delivered) << c.body;
  }
}

TEST(EngineioPayload, PacketCountGuard) {
  std::string body = "6";
  for (int i = 1; i < 100; ++i)
    body +=
        "\x1e"
        "6";
  EXPECT_EQ(decode_all(body, 100).items.size(), 100u);
  auto d = decode_all(body, 99);
  EXPECT_EQ(d.error, "too many packets in payload");
  EXPECT_TRUE(d.items.empty());  // refused before any packet is delivered
  PayloadDecoder dec(body, 99);
  Packet p;
  EXPECT_EQ(dec.next(p).error().code, Errc::kTooLarge);
}

TEST(EngineioPayload, RoundTripsEveryPartition) {
  // Every way of cutting a sequence of 6 packets into consecutive bodies: each body encodes
  // and decodes back to its packets.
  const std::string bin1 = "\x00\xff\x1e";
  const std::string bin2;
  const std::vector<OutPacket> all = {
      OutPacket::text_packet(PacketType::kMessage, "hello"),
      OutPacket::binary_message(bytes_of(bin1)),
      OutPacket::text_packet(PacketType::kPing),
      OutPacket::text_packet(PacketType::kMessage, "\xc3\xa9 2[\"x\"]"),
      OutPacket::binary_message(bytes_of(bin2)),
      OutPacket::text_packet(PacketType::kNoop),
  };
  for (unsigned cuts = 0; cuts < (1u << (all.size() - 1)); ++cuts) {
    size_t begin = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (i + 1 < all.size() && !(cuts & (1u << i))) continue;
      std::span<const OutPacket> part(all.data() + begin, i + 1 - begin);
      std::string body = "prefix";
      encode_payload(part, body);
      std::string_view b = std::string_view(body).substr(6);
      ASSERT_EQ(b.size(), payload_size(part));
      auto d = decode_all(b);
      ASSERT_EQ(d.error, "");
      ASSERT_EQ(d.items.size(), part.size());
      for (size_t k = 0; k < part.size(); ++k) {
        const auto& o = part[k];
        const std::string want =
            o.binary ? "B" + std::string(o.bytes.begin(), o.bytes.end())
                     : "T" + std::string(1, packet_type_char(o.type)) + std::string(o.text);
        EXPECT_EQ(d.items[k], want);
      }
      begin = i + 1;
    }
  }
}

TEST(EngineioPayload, EncodesIntoCallerBuffer) {
  const uint8_t b[] = {1, 2, 3};
  const OutPacket ps[] = {OutPacket::text_packet(PacketType::kMessage, "x"),
                          OutPacket::binary_message(b)};
  char buf[64];
  const size_t n = encode_payload_to(ps, buf);
  EXPECT_EQ(std::string_view(buf, n),
            "4x\x1e"
            "bAQID");
  EXPECT_EQ(payload_size({}), 0u);
}

TEST(EngineioOpen, ExactKeys) {
  std::string out;
  encode_open_packet(out, {"abc", true, 25000, 20000, 1000000});
  EXPECT_EQ(out,
            R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,)"
            R"("maxPayload":1000000})");
  out.clear();
  encode_open_packet(out, {"s", false, 300, 200, 5});
  EXPECT_EQ(out,
            R"(0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":5})");
}

TEST(EngineioError, BodiesAndStatus) {
  EXPECT_EQ(error_body(ErrorCode::kTransportUnknown),
            R"({"code":0,"message":"Transport unknown"})");
  EXPECT_EQ(error_body(ErrorCode::kUnknownSid), R"({"code":1,"message":"Session ID unknown"})");
  EXPECT_EQ(error_body(ErrorCode::kForbidden, "no \"way\""),
            R"({"code":4,"message":"no \"way\""})");
  EXPECT_EQ(error_http_status(ErrorCode::kForbidden), 403);
  EXPECT_EQ(error_http_status(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(error_message(ErrorCode::kUnsupportedProtocolVersion), "Unsupported protocol version");
  EXPECT_EQ(error_message(ErrorCode::kBadHandshakeMethod), "Bad handshake method");
}

}  // namespace
}  // namespace sb::engineio
