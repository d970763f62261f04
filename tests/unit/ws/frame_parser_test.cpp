#include "ws/frame_parser.h"

#include <gtest/gtest.h>

#include <random>

#include "ws/close_code.h"
#include "ws_test_util.h"

namespace sb::ws {
namespace {

using test::bytes;
using test::cat;
using test::frame;
using test::run_bytewise;
using test::run_split;
using test::run_whole;
using Ev = std::vector<std::string>;

// ----- valid input ------------------------------------------------------------------------------

TEST(FrameParser, SingleFrames) {
  EXPECT_EQ(run_whole(frame(Opcode::kText, "hello")).events, Ev{"text:hello"});
  EXPECT_EQ(run_whole(frame(Opcode::kBinary, "\x01\x02")).events, Ev{"binary:\x01\x02"});
  EXPECT_EQ(run_whole(frame(Opcode::kText, "")).events, Ev{"text:"});
  EXPECT_EQ(run_whole(frame(Opcode::kBinary, "")).events, Ev{"binary:"});
  EXPECT_EQ(run_whole(frame(Opcode::kPing, "p")).events, Ev{"ping:p"});
  EXPECT_EQ(run_whole(frame(Opcode::kPong, "")).events, Ev{"pong:"});
}

TEST(FrameParser, LengthEncodings) {
  for (size_t n : {125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    const std::string payload(n, 'x');
    const auto r = run_whole(frame(Opcode::kBinary, payload));
    ASSERT_EQ(r.events.size(), 1u) << n;
    EXPECT_EQ(r.events[0], "binary:" + payload) << n;
  }
}

TEST(FrameParser, NonMinimalLengthAccepted) {
  // "abc" declared with a 16-bit and with a 64-bit length (documented decision: accepted).
  std::vector<uint8_t> w16 = {0x81, 0x80 | 126, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c'};
  EXPECT_EQ(run_whole(w16).events, Ev{"text:abc"});
  std::vector<uint8_t> w64 = {0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c'};
  EXPECT_EQ(run_whole(w64).events, Ev{"text:abc"});
}

TEST(FrameParser, FragmentsWithInterleavedControlFrames) {
  const auto wire = cat({frame(Opcode::kText, "Hel", false), frame(Opcode::kPing, "p1"),
                         frame(Opcode::kContinuation, "lo ", false), frame(Opcode::kPong, "q"),
                         frame(Opcode::kContinuation, "world", true)});
  EXPECT_EQ(run_whole(wire).events, (Ev{"ping:p1", "pong:q", "text:Hello world"}));
}

TEST(FrameParser, EmptyFragments) {
  const auto wire =
      cat({frame(Opcode::kBinary, "", false), frame(Opcode::kContinuation, "", false),
           frame(Opcode::kContinuation, "x", false), frame(Opcode::kContinuation, "", true)});
  EXPECT_EQ(run_whole(wire).events, Ev{"binary:x"});
}

// A stream exercising every path: in-place messages, 16-bit lengths, fragments with control
// frames in between, a UTF-8 sequence split across fragments, a close frame.
std::vector<uint8_t> mixed_stream() {
  return cat({frame(Opcode::kText, "hi"), frame(Opcode::kBinary, std::string(300, 'b')),
              frame(Opcode::kText, "caf\xC3", false), frame(Opcode::kPing, "ping!"),
              frame(Opcode::kContinuation, "\xA9 \xF0\x9F", false, false, {1, 2, 3, 4}),
              frame(Opcode::kContinuation, "\x98\x80!", true, false, {9, 8, 7, 6}),
              frame(Opcode::kPong, ""), frame(Opcode::kText, ""),
              frame(Opcode::kClose, std::string("\x03\xE8") + "bye")});
}

const Ev kMixedEvents = {"text:hi",       "binary:" + std::string(300, 'b'),
                         "ping:ping!",    "text:caf\xC3\xA9 \xF0\x9F\x98\x80!",
                         "pong:",         "text:",
                         "close:1000:bye"};

TEST(FrameParser, EverySplitPointGivesIdenticalEvents) {
  const auto wire = mixed_stream();
  ASSERT_EQ(run_whole(wire).events, kMixedEvents);
  for (size_t at = 0; at <= wire.size(); ++at) {
    const auto r = run_split(wire, at);
    ASSERT_EQ(r.events, kMixedEvents) << "split at " << at;
    ASSERT_EQ(r.close_code, 0);
  }
}

TEST(FrameParser, EveryPairOfSplitPoints) {
  const auto wire = cat({frame(Opcode::kText, "ab", false), frame(Opcode::kPing, "x"),
                         frame(Opcode::kContinuation, "c\xE2\x82\xAC", true),
                         frame(Opcode::kBinary, std::string(130, 'z'))});
  const Ev expect = {"ping:x", "text:abc\xE2\x82\xAC", "binary:" + std::string(130, 'z')};
  for (size_t a = 0; a <= wire.size(); ++a) {
    for (size_t b = a; b <= wire.size(); ++b) {
      const size_t reads[] = {a, b - a};
      ASSERT_EQ(test::run(wire, reads).events, expect) << a << "," << b;
    }
  }
}

TEST(FrameParser, ByteByByte) {
  EXPECT_EQ(run_bytewise(mixed_stream()).events, kMixedEvents);
  const std::string big(70000, 'q');
  EXPECT_EQ(run_bytewise(frame(Opcode::kBinary, big)).events, Ev{"binary:" + big});
}

TEST(FrameParser, RandomReadSizesOnLargeFrames) {
  const std::string big(200000, 'L');
  const auto wire = cat({frame(Opcode::kBinary, big), frame(Opcode::kText, "a", false),
                         frame(Opcode::kContinuation, std::string(70000, 'm'), true)});
  const Ev expect = {"binary:" + big, "text:a" + std::string(70000, 'm')};
  std::mt19937 rng(42);
  for (int iter = 0; iter < 50; ++iter) {
    std::vector<size_t> reads;
    for (size_t total = 0; total < wire.size();) {
      reads.push_back(rng() % 9000);
      total += reads.back();
    }
    ASSERT_EQ(test::run(wire, reads).events, expect) << iter;
  }
}

// Zero-copy: a whole frame in the buffer is delivered as a view of that buffer.
struct PointerVisitor : FrameVisitor {
  void on_message(MessageType, std::span<const uint8_t> p) override { data = p.data(); }
  void on_ping(std::span<const uint8_t>) override {}
  void on_pong(std::span<const uint8_t>) override {}
  void on_close(uint16_t, std::string_view) override {}
  const uint8_t* data = nullptr;
};

TEST(FrameParser, WholeFrameDeliveredInPlace) {
  auto wire = frame(Opcode::kText, "in place");
  FrameParser p;
  PointerVisitor v;
  const FeedResult r = p.feed(wire, v);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(v.data, wire.data() + 6);
  EXPECT_EQ(test::str(std::span<const uint8_t>(wire).subspan(6)), "in place");  // unmasked
  EXPECT_EQ(p.buffered_capacity(), 0u);
}

TEST(FrameParser, BufferContract) {
  FrameParser p;
  test::Recorder rec;
  // A partial header is not consumed and not modified.
  auto wire = frame(Opcode::kBinary, std::string(1000, 'x'));
  const auto original = wire;
  EXPECT_EQ(p.feed(std::span<uint8_t>(wire).first(3), rec).consumed, 0u);
  EXPECT_EQ(wire, original);
  // Header + part of the payload: everything consumed, payload buffered.
  EXPECT_EQ(p.feed(std::span<uint8_t>(wire).first(500), rec).consumed, 500u);
  EXPECT_TRUE(p.message_in_progress());
  EXPECT_GT(p.buffered_capacity(), 0u);
  EXPECT_LE(p.buffered_capacity(), 1000u);  // never more than the message needs
  EXPECT_EQ(p.feed(std::span<uint8_t>(wire).subspan(500), rec).consumed, wire.size() - 500);
  EXPECT_EQ(rec.events, Ev{"binary:" + std::string(1000, 'x')});
  EXPECT_EQ(p.buffered_capacity(), 0u);  // released after delivery
  // An incomplete control frame is not consumed and not modified.
  auto ping = frame(Opcode::kPing, "12345");
  const auto ping_orig = ping;
  EXPECT_EQ(p.feed(std::span<uint8_t>(ping).first(ping.size() - 1), rec).consumed, 0u);
  EXPECT_EQ(ping, ping_orig);
  EXPECT_EQ(p.feed(ping, rec).consumed, ping.size());
  EXPECT_EQ(rec.events.back(), "ping:12345");
}

TEST(FrameParser, HeaderOnlyOfHugeFrameAllocatesNothing) {
  FrameParser p;
  test::Recorder rec;
  auto hdr = make_masked_header(Opcode::kBinary, 1 << 20, test::kKey);
  std::vector<uint8_t> wire(hdr.bytes.begin(), hdr.bytes.begin() + hdr.size);
  EXPECT_EQ(p.feed(wire, rec).consumed, wire.size());
  EXPECT_EQ(p.buffered_capacity(), 0u);
}

TEST(FrameParser, CloseFrames) {
  EXPECT_EQ(run_whole(frame(Opcode::kClose, "")).events, Ev{"close:1005:"});
  EXPECT_EQ(run_whole(frame(Opcode::kClose, "\x03\xE8")).events, Ev{"close:1000:"});
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    std::string payload = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    const auto r = run_whole(frame(Opcode::kClose, payload + "r\xC3\xA9"));
    EXPECT_EQ(r.events, Ev{"close:" + std::to_string(code) + ":r\xC3\xA9"}) << code;
  }
}

TEST(FrameParser, InputAfterCloseIsIgnored) {
  const auto wire = cat({frame(Opcode::kClose, "\x03\xE8"), frame(Opcode::kText, "late"),
                         std::vector<uint8_t>{0xff, 0xff}});
  FrameParser p;
  test::Recorder rec;
  auto buf = wire;
  const FeedResult r = p.feed(buf, rec);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.consumed, buf.size());
  EXPECT_TRUE(p.close_received());
  EXPECT_EQ(rec.events, Ev{"close:1000:"});
}

// ----- bad input → close code -------------------------------------------------------------------

struct BadCase {
  const char* name;
  std::vector<uint8_t> wire;
  uint16_t code;
};

std::vector<uint8_t> unmasked(Opcode op, std::string_view payload) {
  std::vector<uint8_t> out;
  append_frame(out, op, bytes(payload));
  return out;
}

std::vector<uint8_t> raw_header(uint8_t b0, uint8_t b1) {
  return {b0, b1, 0, 0, 0, 0};  // mask key of zeros, empty payload
}

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> c;
  c.push_back({"unmasked", unmasked(Opcode::kText, "hi"), 1002});
  c.push_back({"rsv1 without deflate", frame(Opcode::kText, "hi", true, true), 1002});
  c.push_back({"rsv2", raw_header(0x80 | 0x20 | 1, 0x80), 1002});
  c.push_back({"rsv3", raw_header(0x80 | 0x10 | 1, 0x80), 1002});
  for (uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    c.push_back({"reserved opcode", raw_header(static_cast<uint8_t>(0x80 | op), 0x80), 1002});
  }
  c.push_back({"continuation first", frame(Opcode::kContinuation, "x"), 1002});
  c.push_back({"text inside fragmented",
               cat({frame(Opcode::kText, "a", false), frame(Opcode::kText, "b")}), 1002});
  c.push_back({"binary inside fragmented",
               cat({frame(Opcode::kBinary, "a", false), frame(Opcode::kBinary, "b")}), 1002});
  c.push_back({"continuation after end",
               cat({frame(Opcode::kText, "a"), frame(Opcode::kContinuation, "b")}), 1002});
  c.push_back({"fragmented ping", frame(Opcode::kPing, "p", false), 1002});
  c.push_back({"fragmented close", frame(Opcode::kClose, "", false), 1002});
  c.push_back({"ping 126", frame(Opcode::kPing, std::string(126, 'p')), 1002});
  c.push_back({"pong 65536", frame(Opcode::kPong, std::string(65536, 'p')), 1002});
  c.push_back({"64-bit top bit", {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 1002});
  c.push_back({"close 1 byte", frame(Opcode::kClose, "\x03"), 1002});
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    std::string payload = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    c.push_back({"bad close code", frame(Opcode::kClose, payload), 1002});
  }
  c.push_back({"close reason bad utf8", frame(Opcode::kClose, "\x03\xE8\xC0\xAF"), 1007});
  c.push_back({"text bad utf8", frame(Opcode::kText, "ok\xFF"), 1007});
  c.push_back({"text surrogate", frame(Opcode::kText, "\xED\xA0\x80"), 1007});
  c.push_back({"text truncated", frame(Opcode::kText, "\xE2\x82"), 1007});
  c.push_back(
      {"fragment truncated",
       cat({frame(Opcode::kText, "a\xF0\x9F", false), frame(Opcode::kContinuation, "\x98")}),
       1007});
  c.push_back({"too big", frame(Opcode::kBinary, std::string(1025, 'x')), 1009});
  c.push_back({"too big fragmented",
               cat({frame(Opcode::kBinary, std::string(600, 'x'), false),
                    frame(Opcode::kContinuation, std::string(600, 'x'))}),
               1009});
  std::vector<uint8_t> many;
  many = frame(Opcode::kBinary, "a", false);
  for (int i = 0; i < 8; ++i) {
    auto f = frame(Opcode::kContinuation, "a", false);
    many.insert(many.end(), f.begin(), f.end());
  }
  c.push_back({"too many fragments", many, 1008});
  return c;
}

TEST(FrameParser, BadInputsCloseWithSpecifiedCode) {
  Limits limits;
  limits.max_message_size = 1024;
  limits.max_fragments = 8;
  for (const BadCase& bc : bad_cases()) {
    const auto whole = run_whole(bc.wire, limits);
    EXPECT_EQ(whole.close_code, bc.code) << bc.name;
    EXPECT_EQ(run_bytewise(bc.wire, limits).close_code, bc.code) << bc.name << " (bytewise)";
    for (size_t at = 0; at <= bc.wire.size() && at < 200; ++at) {
      ASSERT_EQ(run_split(bc.wire, at, limits).close_code, bc.code) << bc.name << " @" << at;
    }
  }
}

TEST(FrameParser, LimitIsInclusive) {
  Limits limits;
  limits.max_message_size = 1024;
  limits.max_fragments = 2;
  EXPECT_EQ(run_whole(frame(Opcode::kBinary, std::string(1024, 'x')), limits).events.size(), 1u);
  const auto two = cat({frame(Opcode::kBinary, std::string(512, 'x'), false),
                        frame(Opcode::kContinuation, std::string(512, 'x'))});
  EXPECT_EQ(run_whole(two, limits).events.size(), 1u);
}

TEST(FrameParser, TooBigDecidedFromHeaderBeforeBuffering) {
  Limits limits;
  limits.max_message_size = 1000;
  FrameParser p(limits);
  test::Recorder rec;
  auto first = frame(Opcode::kBinary, std::string(600, 'x'), false);
  EXPECT_TRUE(p.feed(first, rec).ok());
  // Only the header of the second fragment: rejected before any of its payload arrives.
  auto hdr = make_masked_header(Opcode::kContinuation, 401, test::kKey);
  std::vector<uint8_t> h(hdr.bytes.begin(), hdr.bytes.begin() + hdr.size);
  EXPECT_EQ(p.feed(h, rec).close_code, 1009);
  EXPECT_EQ(p.buffered_capacity(), 0u);
}

TEST(FrameParser, InvalidUtf8FailsFastInFirstFragment) {
  FrameParser p;
  test::Recorder rec;
  // The message is not finished, but the bad byte is already here.
  auto first = frame(Opcode::kText, "hello\xC0\xAFworld", false);
  const FeedResult r = p.feed(first, rec);
  EXPECT_EQ(r.close_code, 1007);
  // Fail fast also inside one frame whose payload arrives in pieces.
  FrameParser q;
  auto big = frame(Opcode::kText, "ab\xFF" + std::string(5000, 'c'));
  EXPECT_EQ(q.feed(std::span<uint8_t>(big).first(20), rec).close_code, 1007);
}

TEST(FrameParser, ErrorIsSticky) {
  FrameParser p;
  test::Recorder rec;
  auto bad = unmasked(Opcode::kText, "x");
  EXPECT_EQ(p.feed(bad, rec).close_code, 1002);
  EXPECT_TRUE(p.failed());
  auto good = frame(Opcode::kText, "y");
  const FeedResult r = p.feed(good, rec);
  EXPECT_EQ(r.close_code, 1002);
  EXPECT_FALSE(r.reason.empty());
  EXPECT_TRUE(rec.events.empty());
}

TEST(FrameParser, Rsv1RulesWithDeflate) {
  const DeflateParams params;
  // RSV1 on a continuation or a control frame is still an error when deflate is negotiated.
  const auto cont =
      cat({frame(Opcode::kText, "a", false), frame(Opcode::kContinuation, "b", true, true)});
  EXPECT_EQ(run_whole(cont, {}, &params).close_code, 1002);
  EXPECT_EQ(run_whole(frame(Opcode::kPing, "", true, true), {}, &params).close_code, 1002);
  // Uncompressed messages stay legal with deflate negotiated.
  EXPECT_EQ(run_whole(frame(Opcode::kText, "plain"), {}, &params).events, Ev{"text:plain"});
}

}  // namespace
}  // namespace sb::ws
