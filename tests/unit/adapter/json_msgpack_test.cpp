// JSON (+ attachments) ⇄ MessagePack against the Node.js reference (notepack.io + socket.io-parser,
// tests/vectors/gen-msgpack-vectors.mjs): json_to_msgpack writes notepack's bytes for what
// JSON.parse + reconstructPacket give, msgpack_to_json writes what JSON.stringify +
// deconstructPacket give for notepack.decode's result, and bad input is refused.

#include "adapter/json_msgpack.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <filesystem>
#include <string>
#include <vector>

namespace sb::adapter {
namespace {

using simdjson::dom::element;
using Bytes = std::vector<uint8_t>;

element load_vectors(simdjson::dom::parser& parser) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/msgpack-vectors.json";
  return parser.load(path.string());
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    unsigned v = 0;
    std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
    out.push_back(static_cast<char>(v));
  }
  return out;
}

std::string hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

std::string hex(const Bytes& b) {
  return hex(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

std::string fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Attachments as the transcoder takes them (spans) over owned storage.
struct Atts {
  std::vector<std::string> storage;
  std::vector<std::span<const uint8_t>> spans;
  explicit Atts(element list) {
    for (element a : list)
      storage.push_back(unhex(std::string_view(a)));
    for (const auto& s : storage)
      spans.emplace_back(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
};

std::string encoding_of(element c) {
  std::string_view h;
  if (c["msgpack"].get(h) == simdjson::SUCCESS) return std::string(h);
  return {};
}

void expect_encoding(element c, const std::string& got, std::string_view name) {
  std::string_view h;
  if (c["msgpack"].get(h) == simdjson::SUCCESS) {
    EXPECT_EQ(hex(got), h) << name;
    return;
  }
  EXPECT_EQ(got.size(), uint64_t(c["msgpack_size"])) << name;
  EXPECT_EQ(hex(got.substr(0, 16)), std::string_view(c["msgpack_head"])) << name;
  EXPECT_EQ(fnv1a64(got), std::string_view(c["msgpack_fnv1a64"])) << name;
}

// Decodes `bytes` and compares with the JSON text + attachments the reference wrote.
void expect_decoded(std::string_view bytes, element want, std::string_view name) {
  msgpack::Reader r(bytes);
  std::string json;
  std::vector<Bytes> atts;
  auto res = msgpack_to_json(r, json, atts);
  ASSERT_TRUE(res) << name << ": " << res.error().reason;
  EXPECT_TRUE(r.at_end()) << name;
  EXPECT_EQ(json, std::string_view(want["json"])) << name;
  std::vector<std::string> got_atts;
  got_atts.reserve(atts.size());
  for (const Bytes& b : atts)
    got_atts.push_back(hex(b));
  std::vector<std::string> want_atts;
  for (element a : want["attachments"])
    want_atts.emplace_back(std::string_view(a));
  EXPECT_EQ(got_atts, want_atts) << name;
}

TEST(JsonMsgpackVectors, JsonToMsgpackMatchesNotepack) {
  simdjson::dom::parser parser;
  int n = 0;
  for (element c : load_vectors(parser)["values"]) {
    std::string_view json;
    if (c["json"].get(json) != simdjson::SUCCESS) continue;  // not JSON-representable
    const std::string_view name = c["name"];
    Atts atts(c["attachments"]);
    std::string out;
    auto r = json_to_msgpack(json, atts.spans, out);
    ASSERT_TRUE(r) << name << ": " << r.error().reason;
    expect_encoding(c, out, name);
    ++n;
  }
  for (element c : load_vectors(parser)["json_cases"]) {
    const std::string_view name = c["name"];
    Atts atts(c["attachments"]);
    std::string out;
    auto r = json_to_msgpack(std::string_view(c["json"]), atts.spans, out);
    ASSERT_TRUE(r) << name << ": " << r.error().reason;
    EXPECT_EQ(hex(out), std::string_view(c["msgpack"])) << name;
    ++n;
  }
  EXPECT_GE(n, 100);
}

TEST(JsonMsgpackVectors, MsgpackToJsonMatchesJsonStringify) {
  simdjson::dom::parser parser;
  for (element c : load_vectors(parser)["values"]) {
    const std::string_view name = c["name"];
    std::string bytes;
    if (std::string h = encoding_of(c); !h.empty()) {
      bytes = unhex(h);
    } else {
      // Big cases store only a digest: take the bytes from json_to_msgpack, which the test
      // above holds to that digest.
      Atts atts(c["attachments"]);
      ASSERT_TRUE(json_to_msgpack(std::string_view(c["json"]), atts.spans, bytes)) << name;
    }
    element want;
    if (c["decoded"].get(want) != simdjson::SUCCESS) want = c;
    expect_decoded(bytes, want, name);
  }
  for (element c : load_vectors(parser)["json_cases"]) {
    expect_decoded(unhex(std::string_view(c["msgpack"])), c["decoded"],
                   std::string_view(c["name"]));
  }
}

TEST(JsonMsgpackVectors, DecodeCases) {
  simdjson::dom::parser parser;
  for (element c : load_vectors(parser)["decode_cases"]) {
    const std::string_view name = c["name"];
    const std::string bytes = unhex(std::string_view(c["msgpack"]));
    if (bool(c["expect_error"])) {
      msgpack::Reader r(bytes);
      std::string json = "keep";
      std::vector<Bytes> atts(1);
      EXPECT_FALSE(msgpack_to_json(r, json, atts)) << name;
      EXPECT_EQ(json, "keep") << name;  // outputs untouched on error
      EXPECT_EQ(atts.size(), 1u) << name;
      continue;
    }
    ASSERT_TRUE(bool(c["node"]["ok"])) << name;
    expect_decoded(bytes, c["node"], name);
  }
}

std::string j2m(std::string_view json, int max_depth = 64) {
  std::string out;
  auto r = json_to_msgpack(json, {}, out, max_depth);
  return r ? hex(out) : std::string("error: ") + std::string(r.error().reason);
}

TEST(JsonToMsgpack, RefusesMalformedJson) {
  for (std::string_view bad : {"",
                               " ",
                               "[",
                               "]",
                               "[1,]",
                               "[,1]",
                               "{\"a\"}",
                               "{\"a\":}",
                               "{\"a\":1,}",
                               "{a:1}",
                               "01",
                               "1.",
                               ".5",
                               "1e",
                               "+1",
                               "-",
                               "tru",
                               "nul",
                               "nulll",
                               "\"abc",
                               "\"\\x\"",
                               "\"\\u12\"",
                               "1 2",
                               "[1 2]",
                               "{\"a\":1 \"b\":2}",
                               "\"a\nb\"",
                               "'a'",
                               "NaN",
                               "Infinity",
                               "[1]x",
                               "\"\\ud800\"",
                               "\"\\udc00\"",
                               "\"\\ud800\\u0041\"",
                               "\"\xff\"",
                               "\"\xc0\xaf\""}) {
    std::string out = "keep";
    EXPECT_FALSE(json_to_msgpack(bad, {}, out)) << bad;
    EXPECT_EQ(out, "keep") << bad;
  }
}

TEST(JsonToMsgpack, DepthLimit) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(j2m(ok).substr(0, 4), "9191");
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_EQ(j2m(deep), "error: nesting too deep");
  EXPECT_EQ(j2m("[{\"a\":[]}]", 2), "error: nesting too deep");
  EXPECT_EQ(j2m("[{\"a\":1}]", 2), "9181a16101");
}

TEST(JsonToMsgpack, Placeholders) {
  const uint8_t a0[] = {1, 2};
  const std::span<const uint8_t> one[] = {a0};
  std::string out;
  EXPECT_TRUE(json_to_msgpack(R"([{"_placeholder":true,"num":0}])", one, out));
  EXPECT_EQ(hex(out), "91c4020102");
  for (std::string_view bad :
       {R"({"_placeholder":true,"num":1})", R"({"_placeholder":true})",
        R"({"_placeholder":true,"num":"0"})", R"({"_placeholder":true,"num":-1})",
        R"({"_placeholder":true,"num":0.5})"}) {
    out.clear();
    EXPECT_FALSE(json_to_msgpack(bad, one, out)) << bad;
  }
}

TEST(JsonToMsgpack, LargeContainersWidenTheirHeaderInPlace) {
  std::string json = "{\"a\":[";
  for (int i = 0; i < 70000; ++i)
    json += i ? ",1" : "1";
  json += "],\"b\":{";
  for (int i = 0; i < 20; ++i)
    json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  json += "}}";
  std::string out;
  ASSERT_TRUE(json_to_msgpack(json, {}, out));
  EXPECT_EQ(hex(out.substr(0, 8)), "82a161dd00011170");
  EXPECT_EQ(hex(out.substr(8 + 70000, 6)), "a162de0014a2");
}

TEST(EventToMsgpack, BuildsTheDataArray) {
  std::string out;
  ASSERT_TRUE(event_to_msgpack("chat", R"({"room":"r","text":"hi"})", {}, out));
  EXPECT_EQ(hex(out), "92a46368617482a4726f6f6da172a474657874a26869");
  out.clear();
  ASSERT_TRUE(event_to_msgpack("ping", "", {}, out));
  EXPECT_EQ(hex(out), "91a470696e67");
  out.clear();
  ASSERT_TRUE(event_to_msgpack("n", " 1 , [2] ,\"x\"", {}, out));
  EXPECT_EQ(hex(out), "94a16e019102a178");
  const uint8_t a0[] = {0xde, 0xad};
  const std::span<const uint8_t> one[] = {a0};
  out.clear();
  ASSERT_TRUE(event_to_msgpack("file", R"({"_placeholder":true,"num":0})", one, out));
  EXPECT_EQ(hex(out), "92a466696c65c402dead");
  std::string args;
  for (int i = 0; i < 20; ++i)
    args += i ? ",0" : "0";
  out.clear();
  ASSERT_TRUE(event_to_msgpack("e", args, {}, out));
  EXPECT_EQ(hex(out.substr(0, 5)), "dc0015a165");
  for (std::string_view bad : {",", "1,", ",1", "1 2", "[", "]"}) {
    out = "keep";
    EXPECT_FALSE(event_to_msgpack("e", bad, {}, out)) << bad;
    EXPECT_EQ(out, "keep");
  }
  // The data array itself is depth 1.
  EXPECT_TRUE(event_to_msgpack("e", std::string(63, '[') + std::string(63, ']'), {}, out));
  EXPECT_FALSE(event_to_msgpack("e", std::string(64, '[') + std::string(64, ']'), {}, out));
}

TEST(MsgpackToJson, MembersForm) {
  // ["chat", "hello", {"from":"A"}, bin, undefined]
  const std::string bytes = unhex("95a463686174a568656c6c6f81a466726f6da141c40101d40000");
  msgpack::Reader r(bytes);
  auto head = r.next();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->size, 5u);
  auto ev = r.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->str(), "chat");
  std::string args;
  std::vector<Bytes> atts;
  ASSERT_TRUE(msgpack_to_json_members(r, 4, args, atts));
  EXPECT_EQ(args, R"("hello",{"from":"A"},{"_placeholder":true,"num":0},null)");
  ASSERT_EQ(atts.size(), 1u);
  EXPECT_EQ(atts[0], Bytes{1});
  EXPECT_TRUE(r.at_end());
}

TEST(MsgpackToJson, OrderedPathInsideMembersAndDepth) {
  // [x, {"b":bin,"0":bin}] read as members after the header: the retry restarts correctly.
  const std::string bytes = unhex("92a17882a162c40101a130c40102");
  msgpack::Reader r(bytes);
  ASSERT_TRUE(r.next());
  std::string args = "[";
  std::vector<Bytes> atts;
  ASSERT_TRUE(msgpack_to_json_members(r, 2, args, atts));
  EXPECT_EQ(args, R"(["x",{"0":{"_placeholder":true,"num":0},"b":{"_placeholder":true,"num":1}})");
  ASSERT_EQ(atts.size(), 2u);
  EXPECT_EQ(atts[0], Bytes{2});
  EXPECT_EQ(atts[1], Bytes{1});

  std::string deep(65, '\x91');
  deep += '\xc0';
  msgpack::Reader d(deep, 100);
  std::string json;
  auto res = msgpack_to_json(d, json, atts);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kTooLarge);
}

}  // namespace
}  // namespace sb::adapter
