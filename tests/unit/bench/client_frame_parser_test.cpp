#include "bench/client_frame_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/deflate.h"
#include "ws/frame_writer.h"

namespace sb::bench {
namespace {

using Bytes = std::vector<uint8_t>;
using Ev = std::vector<std::string>;

Bytes frame(ws::Opcode op, std::string_view payload, bool fin = true, bool rsv1 = false) {
  Bytes out;
  ws::append_frame(out, op,
                   std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()), fin,
                   rsv1);
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Recorder : ClientFrameVisitor {
  Ev events;
  static std::string str(std::span<const uint8_t> p) { return {p.begin(), p.end()}; }
  void on_message(ws::MessageType t, std::span<const uint8_t> p) override {
    events.push_back((t == ws::MessageType::kText ? "text:" : "binary:") + str(p));
  }
  void on_ping(std::span<const uint8_t> p) override { events.push_back("ping:" + str(p)); }
  void on_pong(std::span<const uint8_t> p) override { events.push_back("pong:" + str(p)); }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
};

struct Outcome {
  Ev events;
  uint16_t error = 0;
};

// Feeds `chunks` the way the loop does: unconsumed bytes are kept and presented again, followed
// by the next chunk.
Outcome feed_chunks(const std::vector<Bytes>& chunks,
                    ClientFrameParser parser = ClientFrameParser()) {
  Recorder rec;
  Bytes pending;
  Outcome o;
  for (const Bytes& c : chunks) {
    pending.insert(pending.end(), c.begin(), c.end());
    const ClientFeedResult r = parser.feed(pending, rec);
    if (!r.ok()) {
      o.error = r.close_code;
      break;
    }
    EXPECT_LE(r.consumed, pending.size());
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(r.consumed));
  }
  o.events = rec.events;
  return o;
}

Outcome whole(const Bytes& wire) {
  return feed_chunks({wire});
}

// Every split into two pieces, and byte by byte, gives the same events as the whole input.
void expect_every_split(const Bytes& wire, const Ev& want) {
  EXPECT_EQ(whole(wire).events, want);
  for (size_t i = 0; i <= wire.size(); ++i) {
    const Bytes a(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(i));
    const Bytes b(wire.begin() + static_cast<std::ptrdiff_t>(i), wire.end());
    const Outcome o = feed_chunks({a, b});
    ASSERT_EQ(o.error, 0) << "split at " << i;
    ASSERT_EQ(o.events, want) << "split at " << i;
  }
  std::vector<Bytes> bytewise;
  for (uint8_t x : wire)
    bytewise.push_back(Bytes{x});
  EXPECT_EQ(feed_chunks(bytewise).events, want);
}

TEST(ClientFrameParser, SingleFramesEverySplit) {
  expect_every_split(frame(ws::Opcode::kText, "hello"), Ev{"text:hello"});
  expect_every_split(frame(ws::Opcode::kBinary, ""), Ev{"binary:"});
  expect_every_split(frame(ws::Opcode::kPing, "p"), Ev{"ping:p"});
}

TEST(ClientFrameParser, LengthEncodingsEverySplit) {
  for (size_t n : {125u, 126u, 300u, 65535u, 65536u}) {
    const std::string payload(n, 'x');
    const Bytes wire = frame(ws::Opcode::kBinary, payload);
    if (n <= 300) {
      expect_every_split(wire, Ev{"binary:" + payload});
    } else {
      EXPECT_EQ(whole(wire).events, Ev{"binary:" + payload});
      for (size_t i : {1u, 2u, 5u, 9u, 10u, 11u, 1000u}) {
        EXPECT_EQ(feed_chunks({Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(i)),
                               Bytes(wire.begin() + static_cast<std::ptrdiff_t>(i), wire.end())})
                      .events,
                  Ev{"binary:" + payload})
            << n << " split " << i;
      }
    }
  }
}

TEST(ClientFrameParser, StreamOfFramesEverySplit) {
  const Bytes wire =
      cat({frame(ws::Opcode::kText, "one"), frame(ws::Opcode::kText, "Hel", false),
           frame(ws::Opcode::kPing, "p1"), frame(ws::Opcode::kContinuation, "lo ", false),
           frame(ws::Opcode::kPong, "q"), frame(ws::Opcode::kContinuation, "world", true),
           frame(ws::Opcode::kBinary, std::string(200, 'b')), frame(ws::Opcode::kBinary, "", false),
           frame(ws::Opcode::kContinuation, "z", true)});
  expect_every_split(wire, Ev{"text:one", "ping:p1", "pong:q", "text:Hello world",
                              "binary:" + std::string(200, 'b'), "binary:z"});
}

TEST(ClientFrameParser, CloseFrameEverySplit) {
  Bytes close;
  ws::append_close(close, 1001, "going away");
  expect_every_split(
      cat({frame(ws::Opcode::kText, "last"), close, frame(ws::Opcode::kText, "ignored")}),
      Ev{"text:last", "close:1001:going away"});
  expect_every_split(frame(ws::Opcode::kClose, ""), Ev{"close:1005:"});
}

TEST(ClientFrameParser, ProtocolErrors) {
  // Masked server frame.
  Bytes masked;
  ws::append_masked_frame(masked, ws::Opcode::kText, Bytes{'a'}, ws::MaskKey{1, 2, 3, 4});
  EXPECT_EQ(whole(masked).error, 1002);
  // Continuation without a message; new message inside a fragmented one.
  EXPECT_EQ(whole(frame(ws::Opcode::kContinuation, "x")).error, 1002);
  EXPECT_EQ(whole(cat({frame(ws::Opcode::kText, "a", false), frame(ws::Opcode::kText, "b")})).error,
            1002);
  // Fragmented or oversized control frame.
  EXPECT_EQ(whole(frame(ws::Opcode::kPing, "x", false)).error, 1002);
  // Built in place rather than grown by resize(): GCC 12 at -O3 warns about that growth with a
  // bogus -Warray-bounds.
  Bytes big_ping(204, 'x');
  big_ping[0] = 0x89;
  big_ping[1] = 126;
  big_ping[2] = 0;
  big_ping[3] = 200;
  EXPECT_EQ(whole(big_ping).error, 1002);
  // RSV1 without deflate; RSV2; reserved opcode.
  EXPECT_EQ(whole(frame(ws::Opcode::kText, "x", true, true)).error, 1002);
  EXPECT_EQ(whole(Bytes{0xa1, 0x00}).error, 1002);
  EXPECT_EQ(whole(Bytes{0x83, 0x00}).error, 1002);
  // Too big for the limit (checked from the header).
  EXPECT_EQ(
      feed_chunks({frame(ws::Opcode::kBinary, std::string(100, 'x'))}, ClientFrameParser(50)).error,
      1009);
}

TEST(ClientFrameParser, CompressedMessagesEverySplit) {
  ws::Deflater deflater(15, true);
  const std::string text = "hello hello hello hello hello hello, compressed world";
  Bytes compressed;
  ASSERT_TRUE(deflater.compress(
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), compressed));
  Bytes wire;
  ws::append_frame(wire, ws::Opcode::kText, compressed, true, true);
  wire = cat({wire, frame(ws::Opcode::kText, "plain"), wire});
  for (size_t i = 0; i <= wire.size(); ++i) {
    ClientFrameParser p;
    p.enable_deflate(15, true);
    const Outcome o =
        feed_chunks({Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(i)),
                     Bytes(wire.begin() + static_cast<std::ptrdiff_t>(i), wire.end())},
                    std::move(p));
    ASSERT_EQ(o.error, 0) << i;
    ASSERT_EQ(o.events, (Ev{"text:" + text, "text:plain", "text:" + text})) << i;
  }
}

}  // namespace
}  // namespace sb::bench
