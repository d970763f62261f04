// Byte-exact vectors produced by engine.io-parser (tests/vectors/gen_socketio_vectors.mjs). Lives
// with the Socket.IO tests because it reads the vectors with simdjson, which only that layer links.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/base64.h"
#include "engineio/packet.h"

namespace sb::engineio {
namespace {

simdjson::dom::element load(simdjson::dom::parser& parser) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/engineio_packets.json";
  return parser.load(path.string());
}

PacketType type_named(std::string_view name) {
  for (int t = 0; t <= 6; ++t) {
    if (packet_type_name(static_cast<PacketType>(t)) == name) return static_cast<PacketType>(t);
  }
  ADD_FAILURE() << name;
  return PacketType::kNoop;
}

std::vector<uint8_t> unb64(std::string_view s) {
  auto r = base64_decode(s);
  EXPECT_TRUE(r);
  return r ? *r : std::vector<uint8_t>{};
}

TEST(EngineioVectors, Packets) {
  simdjson::dom::parser parser;
  auto doc = load(parser);
  int n = 0;
  for (auto v : doc["packets"]) {
    const std::string_view encoded = v["encoded"];
    std::string_view b64;
    if (v["binary_b64"].get(b64) == simdjson::SUCCESS) {
      const auto raw = unb64(b64);
      const OutPacket op = OutPacket::binary_message(raw);
      std::string out;
      encode_payload({&op, 1}, out);
      EXPECT_EQ(out, encoded);
      PayloadDecoder dec(encoded);
      Packet p;
      ASSERT_TRUE(*dec.next(p));
      EXPECT_TRUE(p.binary);
      EXPECT_EQ(std::vector<uint8_t>(p.bytes.begin(), p.bytes.end()), raw);
    } else {
      const PacketType t = type_named(std::string_view(v["type"]));
      const std::string_view data = v["data"];
      std::string out;
      encode_text_packet(out, t, data);
      EXPECT_EQ(out, encoded);
      auto p = decode_text_packet(encoded);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->type, t);
      EXPECT_EQ(p->data, data);
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(EngineioVectors, Payloads) {
  simdjson::dom::parser parser;
  auto doc = load(parser);
  for (auto v : doc["payloads"]) {
    std::vector<std::vector<uint8_t>> raws;
    std::vector<OutPacket> ops;
    for (auto p : v["packets"]) {
      std::string_view b64;
      if (p["binary_b64"].get(b64) == simdjson::SUCCESS) {
        raws.push_back(unb64(b64));
      } else {
        raws.emplace_back();
      }
    }
    size_t i = 0;
    for (auto p : v["packets"]) {
      std::string_view b64;
      if (p["binary_b64"].get(b64) == simdjson::SUCCESS) {
        ops.push_back(OutPacket::binary_message(raws[i]));
      } else {
        ops.push_back(OutPacket::text_packet(type_named(std::string_view(p["type"])),
                                             std::string_view(p["data"])));
      }
      ++i;
    }
    const std::string_view encoded = v["encoded"];
    std::string out;
    encode_payload(ops, out);
    EXPECT_EQ(out, encoded);
    PayloadDecoder dec(encoded);
    Packet p;
    for (const auto& op : ops) {
      ASSERT_TRUE(*dec.next(p));
      EXPECT_EQ(p.binary, op.binary);
      if (op.binary) {
        EXPECT_TRUE(std::equal(p.bytes.begin(), p.bytes.end(), op.bytes.begin(), op.bytes.end()));
      } else {
        EXPECT_EQ(p.type, op.type);
        EXPECT_EQ(p.data, op.text);
      }
    }
    EXPECT_FALSE(*dec.next(p));
  }
}

TEST(EngineioVectors, BadPayloads) {
  simdjson::dom::parser parser;
  auto doc = load(parser);
  for (auto v : doc["bad_payloads"]) {
    const std::string_view body = v["body"];
    PayloadDecoder dec(body);
    Packet p;
    std::string error;
    for (;;) {
      auto r = dec.next(p);
      if (!r) {
        error = r.error().reason;
        break;
      }
      if (!*r) break;
    }
    EXPECT_EQ(error, std::string_view(v["error"])) << body;
  }
}

TEST(EngineioVectors, OpenAndErrors) {
  simdjson::dom::parser parser;
  auto doc = load(parser);
  for (auto v : doc["open"]) {
    std::string out;
    encode_open_packet(out,
                       {std::string_view(v["sid"]), bool(v["upgrades"]), 25000, 20000, 1000000});
    EXPECT_EQ(out, std::string_view(v["encoded"]));
  }
  int n = 0;
  for (auto v : doc["errors"]) {
    const auto code = static_cast<ErrorCode>(int64_t(v["code"]));
    EXPECT_EQ(error_body(code), std::string_view(v["body"]));
    ++n;
  }
  EXPECT_EQ(n, 6);
}

}  // namespace
}  // namespace sb::engineio
