// Byte-exact vectors produced by socket.io-parser (tests/vectors/gen_socketio_vectors.mjs):
// our encoder writes the reference's bytes, our decoder reads the reference's output back to
// the same fields, and refuses every bad input with the recorded error.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/base64.h"
#include "engineio/json_writer.h"
#include "socketio/decoder.h"
#include "socketio/encoder.h"

namespace sb::socketio {
namespace {

using simdjson::dom::element;

element load(simdjson::dom::parser& parser) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/socketio_packets.json";
  return parser.load(path.string());
}

std::vector<uint8_t> unb64(std::string_view s) {
  auto r = base64_decode(s);
  EXPECT_TRUE(r) << s;
  return r ? *r : std::vector<uint8_t>{};
}

std::optional<uint64_t> id_of(element v) {
  uint64_t id = 0;
  if (v["id"].get(id) == simdjson::SUCCESS) return id;
  return std::nullopt;
}

std::string encode_vector(element v) {
  const std::string_view kind = v["kind"];
  const std::string_view nsp = v["nsp"];
  const auto attachments = static_cast<uint32_t>(simdjson::dom::array(v["attachments"]).size());
  std::string out;
  if (kind == "event") {
    encode_event(out, nsp, std::string_view(v["event"]), std::string_view(v["args_json"]), id_of(v),
                 attachments);
  } else if (kind == "ack") {
    encode_ack(out, nsp, *id_of(v), std::string_view(v["args_json"]), attachments);
  } else if (kind == "connect") {
    encode_connect(out, nsp, std::string_view(v["payload_json"]));
  } else if (kind == "connect_reply") {
    encode_connect_reply(out, nsp, std::string_view(v["sid"]), std::string_view(v["pid"]));
  } else if (kind == "connect_error") {
    encode_connect_error(out, nsp, std::string_view(v["message"]),
                         std::string_view(v["data_json"]));
  } else {
    encode_disconnect(out, nsp);
  }
  return out;
}

TEST(SocketioVectors, EncoderMatchesReference) {
  simdjson::dom::parser parser;
  int n = 0;
  for (element v : load(parser)["packets"]) {
    const std::string_view name = v["name"];
    const std::string encoded = encode_vector(v);
    EXPECT_EQ(encoded, std::string_view(v["encoded"])) << name;
    std::vector<std::vector<uint8_t>> atts;
    for (element a : v["attachments"])
      atts.push_back(unb64(std::string_view(a)));
    std::vector<std::string_view> wire;
    for (element a : v["encoded_attachments"])
      wire.push_back(std::string_view(a));
    ASSERT_EQ(wire.size(), atts.size()) << name;
    for (size_t i = 0; i < atts.size(); ++i)
      EXPECT_EQ(unb64(wire[i]), atts[i]) << name;
    const EncodedPacket e = encode_for_transports(encoded, atts);
    EXPECT_EQ(e.polling(), std::string_view(v["polling"])) << name;
    ++n;
  }
  EXPECT_GE(n, 20);
}

TEST(SocketioVectors, DecoderReadsReferenceOutput) {
  simdjson::dom::parser parser;
  for (element v : load(parser)["packets"]) {
    const std::string_view name = v["name"];
    Decoder d;
    auto r = d.on_text(std::string_view(v["encoded"]));
    ASSERT_TRUE(r) << name << ": " << r.error().reason;
    std::vector<std::vector<uint8_t>> atts;
    for (element a : v["encoded_attachments"])
      atts.push_back(unb64(std::string_view(a)));
    for (const auto& a : atts) {
      ASSERT_EQ(*r, nullptr) << name;
      r = d.on_binary(a);
      ASSERT_TRUE(r) << name;
    }
    ASSERT_NE(*r, nullptr) << name;
    const Packet& p = **r;
    EXPECT_EQ(static_cast<int64_t>(p.type), int64_t(v["wire_type"])) << name;
    EXPECT_EQ(p.nsp, std::string_view(v["nsp"])) << name;
    EXPECT_EQ(p.id, id_of(v)) << name;
    ASSERT_EQ(p.attachments.size(), atts.size()) << name;
    for (size_t i = 0; i < atts.size(); ++i) {
      EXPECT_TRUE(std::equal(p.attachments[i].begin(), p.attachments[i].end(), atts[i].begin(),
                             atts[i].end()))
          << name;
    }
    const std::string_view kind = v["kind"];
    if (kind == "event") {
      EXPECT_EQ(p.event, std::string_view(v["event"])) << name;
      EXPECT_EQ(p.args, std::string_view(v["args_json"])) << name;
    } else if (kind == "ack") {
      EXPECT_EQ(p.args, std::string_view(v["args_json"])) << name;
    } else if (kind == "connect") {
      EXPECT_EQ(p.data, std::string_view(v["payload_json"])) << name;
    }
  }
}

TEST(SocketioVectors, GoodInputs) {
  simdjson::dom::parser parser;
  for (element v : load(parser)["good"]) {
    const std::string_view input = v["input"];
    auto p = decode_packet(input);
    ASSERT_TRUE(p) << input << ": " << p.error().reason;
    std::string_view s;
    if (v["nsp"].get(s) == simdjson::SUCCESS) {
      EXPECT_EQ(p->nsp, s) << input;
    }
    if (v["event"].get(s) == simdjson::SUCCESS) {
      EXPECT_EQ(p->event, s) << input;
    }
    if (v["args"].get(s) == simdjson::SUCCESS) {
      EXPECT_EQ(p->args, s) << input;
    }
    bool numeric = false;
    if (v["numeric"].get(numeric) == simdjson::SUCCESS) {
      EXPECT_EQ(p->numeric_event, numeric);
    }
    uint64_t n = 0;
    if (v["attachments"].get(n) == simdjson::SUCCESS) {
      EXPECT_EQ(p->attachment_count, n);
    }
  }
}

TEST(SocketioVectors, BadInputs) {
  simdjson::dom::parser parser;
  int n = 0;
  for (element v : load(parser)["bad"]) {
    const std::string_view input = v["input"];
    auto p = decode_packet(input);
    ASSERT_FALSE(p) << input;
    EXPECT_EQ(p.error().reason, std::string_view(v["error"])) << input;
    ++n;
  }
  EXPECT_GE(n, 60);
}

TEST(SocketioVectors, DecoderSequences) {
  simdjson::dom::parser parser;
  for (element v : load(parser)["sequences"]) {
    Decoder d;
    std::string error;
    std::vector<std::vector<uint8_t>> keep;
    for (element m : v["messages"]) {
      std::string_view text;
      Result<const Packet*> r = static_cast<const Packet*>(nullptr);
      if (m.get(text) == simdjson::SUCCESS) {
        r = d.on_text(text);
      } else {
        keep.push_back(unb64(std::string_view(m["bin"])));
        r = d.on_binary(keep.back());
      }
      if (!r) {
        error = r.error().reason;
        break;
      }
    }
    EXPECT_EQ(error, std::string_view(v["error"]));
  }
}

TEST(SocketioVectors, JsonStringifyStringsAndNumbers) {
  simdjson::dom::parser parser;
  auto doc = load(parser);
  for (element v : doc["strings"]) {
    const auto raw = unb64(std::string_view(v["value_b64"]));
    std::string out;
    engineio::append_json_string(out, {reinterpret_cast<const char*>(raw.data()), raw.size()});
    EXPECT_EQ(out, std::string_view(v["json"]));
  }
  for (element v : doc["numbers"]) {
    const std::string_view hex = v["bits"];
    uint64_t bits = 0;
    for (char c : hex)
      bits = bits << 4 | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    std::string out;
    engineio::append_json_number(out, d);
    EXPECT_EQ(out, std::string_view(v["json"]));
  }
}

}  // namespace
}  // namespace sb::socketio
