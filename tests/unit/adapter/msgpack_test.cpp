// The MessagePack codec against notepack.io (tests/vectors/gen-msgpack-vectors.mjs): the Writer
// writes notepack's exact bytes for every value case, the Reader reads them back token by token,
// and hostile input (every truncation, reserved bytes, lying counts, deep nesting) is refused.

#include "adapter/msgpack.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace sb::adapter::msgpack {
namespace {

using simdjson::dom::element;

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

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

double parse_num(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

// Drives the Writer from a vector's marker form of a JS value (see the generator).
void write_tagged(Writer& w, element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      w.nil();
      return;
    case simdjson::dom::element_type::BOOL:
      w.boolean(bool(v));
      return;
    case simdjson::dom::element_type::INT64:
      w.number(static_cast<double>(int64_t(v)));
      return;
    case simdjson::dom::element_type::UINT64:
      w.number(static_cast<double>(uint64_t(v)));
      return;
    case simdjson::dom::element_type::DOUBLE:
      w.number(double(v));
      return;
    case simdjson::dom::element_type::STRING:
      w.str(std::string_view(v));
      return;
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array a = v;
      w.array(a.size());
      for (element e : a)
        write_tagged(w, e);
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object o = v;
      if (o.size() == 1) {
        const auto f = *o.begin();
        if (f.key == "$bin") {
          const std::string b = unhex(std::string_view(f.value));
          w.bin(bytes_of(b));
          return;
        }
        if (f.key == "$num") {
          w.number(parse_num(std::string_view(f.value)));
          return;
        }
        if (f.key == "$date") {
          w.date(f.value.is_string() ? std::nan("") : double(f.value));
          return;
        }
      }
      w.map(o.size());
      for (auto f : o) {
        w.str(f.key);
        write_tagged(w, f.value);
      }
      return;
    }
  }
}

// Re-encodes a value read token by token (integers through their exact forms).
Result<void> copy_value(Reader& r, Writer& w) {
  const size_t at = r.offset();
  auto t = r.next();
  if (!t) return t.error();
  switch (t->type) {
    case Type::kNil:
      w.nil();
      break;
    case Type::kBool:
      w.boolean(t->boolean);
      break;
    case Type::kInt:
    case Type::kUint: {
      // notepack's 64-bit forms are not always minimal (2^64 → cf 00…): integer()/uinteger()
      // are checked where the form is minimal, the others are copied as read.
      std::string minimal;
      Writer m(minimal);
      t->type == Type::kInt ? m.integer(t->i) : m.uinteger(t->u);
      const auto raw = r.input().subspan(at, r.offset() - at);
      if (minimal.size() == raw.size()) {
        w.out() += minimal;
      } else {
        w.out().append(reinterpret_cast<const char*>(raw.data()), raw.size());
      }
      break;
    }
    case Type::kFloat:
      w.number(t->f);
      break;
    case Type::kStr:
      w.str(t->str());
      break;
    case Type::kBin:
      w.bin(t->bytes);
      break;
    case Type::kExt:
      w.ext(t->ext_type, t->bytes);
      break;
    case Type::kArray:
    case Type::kMap: {
      const bool is_map = t->type == Type::kMap;
      is_map ? w.map(t->size) : w.array(t->size);
      for (uint64_t i = 0; i < uint64_t{t->size} * (is_map ? 2 : 1); ++i) {
        auto c = copy_value(r, w);
        if (!c) return c;
      }
      break;
    }
  }
  return {};
}

// The vector's expected encoding: full hex, or size + head + FNV-1a for the big ones.
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

TEST(MsgpackVectors, WriterMatchesNotepack) {
  simdjson::dom::parser parser;
  int n = 0;
  for (element c : load_vectors(parser)["values"]) {
    const std::string_view name = c["name"];
    std::string out;
    Writer w(out);
    write_tagged(w, c["value"]);
    expect_encoding(c, out, name);
    ++n;
  }
  EXPECT_GE(n, 90);
}

TEST(MsgpackVectors, ReaderReadsEveryValueBackExactly) {
  simdjson::dom::parser parser;
  for (element c : load_vectors(parser)["values"]) {
    const std::string_view name = c["name"];
    std::string bytes;
    Writer w(bytes);
    write_tagged(w, c["value"]);
    Reader r(bytes);
    std::string again;
    Writer w2(again);
    auto res = copy_value(r, w2);
    ASSERT_TRUE(res) << name << ": " << res.error().reason;
    EXPECT_TRUE(r.at_end()) << name;
    EXPECT_EQ(r.depth(), 0) << name;
    EXPECT_EQ(hex(again), hex(bytes)) << name;
    Reader s(bytes);
    ASSERT_TRUE(s.skip()) << name;
    EXPECT_TRUE(s.at_end()) << name;
  }
}

// Every strict prefix of a valid encoding is an incomplete value: skip() must fail cleanly.
TEST(MsgpackVectors, EveryTruncationIsAnError) {
  simdjson::dom::parser parser;
  for (element c : load_vectors(parser)["values"]) {
    std::string_view h;
    if (c["msgpack"].get(h) != simdjson::SUCCESS || h.size() > 2048) continue;
    const std::string bytes = unhex(h);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      Reader r(std::string_view(bytes).substr(0, cut));
      auto s = r.skip();
      ASSERT_FALSE(s) << std::string_view(c["name"]) << " cut at " << cut;
      EXPECT_EQ(s.error().code, Errc::kProtocol);
    }
  }
}

std::string enc(auto f) {
  std::string out;
  Writer w(out);
  f(w);
  return hex(out);
}

TEST(MsgpackWriter, IntegersTakeTheSmallestNotepackForm) {
  EXPECT_EQ(enc([](Writer& w) { w.integer(0); }), "00");
  EXPECT_EQ(enc([](Writer& w) { w.integer(127); }), "7f");
  EXPECT_EQ(enc([](Writer& w) { w.integer(128); }), "cc80");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-1); }), "ff");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-32); }), "e0");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-33); }), "d0df");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-129); }), "d1ff7f");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-32769); }), "d2ffff7fff");
  EXPECT_EQ(enc([](Writer& w) { w.integer(INT64_MIN); }), "d38000000000000000");
  EXPECT_EQ(enc([](Writer& w) { w.integer(INT64_C(1) << 40); }), "cf0000010000000000");
  EXPECT_EQ(enc([](Writer& w) { w.uinteger(UINT64_MAX); }), "cfffffffffffffffff");
  // Exact beyond 2^53 (a JS number could not hold it; notepack never sees it).
  EXPECT_EQ(enc([](Writer& w) { w.integer((INT64_C(1) << 53) + 1); }), "cf0020000000000001");
}

TEST(MsgpackWriter, NumbersFollowNotepack) {
  EXPECT_EQ(enc([](Writer& w) { w.number(-0.0); }), "00");
  EXPECT_EQ(enc([](Writer& w) { w.number(1.0); }), "01");
  EXPECT_EQ(enc([](Writer& w) { w.number(1.5); }), "cb3ff8000000000000");
  EXPECT_EQ(enc([](Writer& w) { w.number(std::nan("")); }), "cb7ff8000000000000");
  EXPECT_EQ(enc([](Writer& w) { w.number(1e21); }), "cf35c9adc5dea00000");  // mod 2^64
  EXPECT_EQ(enc([](Writer& w) { w.number(-1e21); }), "d3ca36523a21600000");
  EXPECT_EQ(enc([](Writer& w) { w.number(-2147483648.0); }), "d280000000");
  EXPECT_EQ(enc([](Writer& w) { w.number(-2147483649.0); }), "d3ffffffff7fffffff");
}

TEST(MsgpackWriter, StringsBinaryContainersExt) {
  EXPECT_EQ(enc([](Writer& w) { w.str(std::string(31, 'a')); }).substr(0, 2), "bf");
  EXPECT_EQ(enc([](Writer& w) { w.str(std::string(32, 'a')); }).substr(0, 4), "d920");
  EXPECT_EQ(enc([](Writer& w) { w.str(std::string(256, 'a')); }).substr(0, 6), "da0100");
  EXPECT_EQ(enc([](Writer& w) { w.str(std::string(65536, 'a')); }).substr(0, 10), "db00010000");
  EXPECT_EQ(enc([](Writer& w) { w.bin({}); }), "c400");
  EXPECT_EQ(enc([](Writer& w) { w.array(15); }), "9f");
  EXPECT_EQ(enc([](Writer& w) { w.array(16); }), "dc0010");
  EXPECT_EQ(enc([](Writer& w) { w.array(65536); }), "dd00010000");
  EXPECT_EQ(enc([](Writer& w) { w.map(15); }), "8f");
  EXPECT_EQ(enc([](Writer& w) { w.map(16); }), "de0010");
  EXPECT_EQ(enc([](Writer& w) { w.map(65536); }), "df00010000");
  const uint8_t d[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  EXPECT_EQ(enc([&](Writer& w) { w.ext(5, std::span(d, 1)); }), "d40501");
  EXPECT_EQ(enc([&](Writer& w) { w.ext(5, std::span(d, 2)); }), "d5050102");
  EXPECT_EQ(enc([&](Writer& w) { w.ext(5, std::span(d, 3)); }), "c70305010203");
  EXPECT_EQ(enc([&](Writer& w) { w.ext(-2, std::span(d, 16)); }).substr(0, 6), "d8fe01");
  EXPECT_EQ(enc([&](Writer& w) { w.ext(5, std::span(d, 17)); }).substr(0, 8), "c7110501");
}

TEST(MsgpackWriter, Dates) {
  EXPECT_EQ(enc([](Writer& w) { w.date(1704164645678.0); }), "d7ffa1a5d60065937d25");
  EXPECT_EQ(enc([](Writer& w) { w.date(1704164645000.0); }), "d6ff65937d25");
  EXPECT_EQ(enc([](Writer& w) { w.date(-1); }), "c70cff3b8b87c0ffffffffffffffff");
  EXPECT_EQ(enc([](Writer& w) { w.date(0.9); }), "d6ff00000000");  // TimeClip truncates
  EXPECT_EQ(enc([](Writer& w) { w.date(9e15); }), "c70cff000000000000000000000000");
}

TEST(MsgpackReader, TokensAndErrors) {
  const std::string in = unhex("93c0c3ca3fc00000");
  Reader r(in);
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, Type::kArray);
  EXPECT_EQ(a->size, 3u);
  EXPECT_EQ(r.depth(), 1);
  EXPECT_EQ(r.next()->type, Type::kNil);
  EXPECT_TRUE(r.next()->boolean);
  auto f = r.next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->float32);
  EXPECT_EQ(f->as_double(), 1.5);
  EXPECT_EQ(r.depth(), 0);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.next());

  const auto first = [](const std::string& bytes) { return Reader(bytes).next(); };
  EXPECT_EQ(first(unhex("c1")).error().code, Errc::kProtocol);
  // A count larger than the bytes left is refused at the header.
  EXPECT_FALSE(first(unhex("dd7fffffff")));
  EXPECT_FALSE(first(unhex("df0000000101")));
  auto neg = first(unhex("d1ff7f"));
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->i, -129);
  const std::string ext = unhex("c70cff000000000000000000000000");
  auto e = Reader(ext).next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, Type::kExt);
  EXPECT_EQ(e->head, 0xc7);
  EXPECT_EQ(e->ext_type, -1);
  EXPECT_EQ(e->size, 12u);
}

TEST(MsgpackReader, DepthIsBounded) {
  const std::string ok = std::string(64, '\x91') + "\xc0";
  Reader r(ok);
  EXPECT_TRUE(r.skip());
  const std::string too_deep = std::string(65, '\x91') + "\xc0";
  Reader deep(too_deep);
  auto s = deep.skip();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kTooLarge);
  // A finished parent still counts: [[...]] with one element each is nesting, not a sequence.
  const std::string three = std::string(3, '\x91') + "\xc0";
  Reader narrow(three, 2);
  EXPECT_FALSE(narrow.skip());
  // Huge declared lengths are checked before use, also in skip().
  const std::string big_bin = unhex("92c4ff00");
  Reader big(big_bin);
  EXPECT_FALSE(big.skip());
}

TEST(MsgpackDates, TimestampsAndIsoStrings) {
  const auto iso = [](double ms) {
    std::string s;
    append_iso_date(s, ms);
    return s;
  };
  EXPECT_EQ(iso(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso(1704164645678.0), "2024-01-02T03:04:05.678Z");
  EXPECT_EQ(iso(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso(8.64e15), "+275760-09-13T00:00:00.000Z");
  EXPECT_EQ(iso(-8.64e15), "-271821-04-20T00:00:00.000Z");
  EXPECT_EQ(iso(-62198755200000.0), "-000001-01-01T00:00:00.000Z");
  EXPECT_EQ(iso(253402300800000.0), "+010000-01-01T00:00:00.000Z");
  EXPECT_EQ(iso(std::nan("")), "");
  const std::string t64 = unhex("a1a5d60065937d25");
  EXPECT_EQ(*timestamp_ms(bytes_of(t64)), 1704164645678.0);
  EXPECT_TRUE(std::isnan(*timestamp_ms(bytes_of(unhex("000000000001000000000000")))));
  EXPECT_FALSE(timestamp_ms(bytes_of(unhex("0000"))));
}

}  // namespace
}  // namespace sb::adapter::msgpack
