#include "ws/frame_writer.h"

#include <gtest/gtest.h>

#include "ws/close_code.h"
#include "ws_test_util.h"

namespace sb::ws {
namespace {

using test::bytes;

TEST(FrameWriter, HeaderLengthEncodings) {
  struct Case {
    uint64_t len;
    std::vector<uint8_t> hdr;
  };
  const Case cases[] = {
      {0, {0x81, 0}},
      {125, {0x81, 125}},
      {126, {0x81, 126, 0, 126}},
      {65535, {0x81, 126, 0xff, 0xff}},
      {65536, {0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
      {0x0102030405060708ull, {0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}},
  };
  for (const Case& c : cases) {
    const FrameHeader h = make_header(Opcode::kText, c.len);
    EXPECT_EQ(std::vector<uint8_t>(h.span().begin(), h.span().end()), c.hdr) << c.len;
    EXPECT_EQ(h.size, header_size(c.len));
  }
  EXPECT_EQ(make_header(Opcode::kBinary, 3, false, true).bytes[0], 0x42);
  EXPECT_EQ(make_header(Opcode::kContinuation, 3, true).bytes[0], 0x80);
}

TEST(FrameWriter, WriteFrameIntoCallerBuffer) {
  uint8_t buf[16];
  EXPECT_EQ(write_frame(buf, Opcode::kText, bytes("hello")), 7u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf) + 2, 5), "hello");
  EXPECT_EQ(write_frame(std::span<uint8_t>(buf, 6), Opcode::kText, bytes("hello")), 0u);
}

TEST(FrameWriter, CloseFrames) {
  std::vector<uint8_t> out;
  append_close(out, close_code::kNormal, "bye");
  EXPECT_EQ(out, (std::vector<uint8_t>{0x88, 5, 0x03, 0xE8, 'b', 'y', 'e'}));
  out.clear();
  append_close(out, close_code::kNoStatus);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x88, 0}));
  // Long reasons are cut to 123 bytes at a character boundary ("é" is 2 bytes).
  std::string reason;
  for (int i = 0; i < 100; ++i)
    reason += "\xC3\xA9";
  out.clear();
  append_close(out, close_code::kGoingAway, reason);
  EXPECT_EQ(out[1], 2 + 122);
}

TEST(FrameWriter, PingPongTruncatedToControlLimit) {
  uint8_t buf[200];
  const std::string big(300, 'p');
  EXPECT_EQ(write_ping(buf, bytes(big)), 127u);
  EXPECT_EQ(buf[0], 0x89);
  EXPECT_EQ(write_pong(buf, bytes("x")), 3u);
  EXPECT_EQ(buf[0], 0x8A);
}

TEST(FrameWriter, MaskedFramesParseBack) {
  for (size_t n : {0u, 1u, 7u, 8u, 33u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'm');
    std::vector<uint8_t> wire;
    append_masked_frame(wire, Opcode::kBinary, bytes(payload), {1, 2, 3, 4});
    EXPECT_EQ(wire.size(), header_size(n) + 4 + n);
    EXPECT_EQ(test::run_whole(wire).events, std::vector<std::string>{"binary:" + payload});
  }
}

TEST(FrameWriter, MaskPhaseIsKeptAcrossCalls) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i);
  const MaskKey key = {0xde, 0xad, 0xbe, 0xef};
  std::vector<uint8_t> once = data;
  apply_mask(once, key, 0);
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    std::vector<uint8_t> parts = data;
    apply_mask(std::span<uint8_t>(parts).first(cut), key, 0);
    apply_mask(std::span<uint8_t>(parts).subspan(cut), key, cut);
    ASSERT_EQ(parts, once) << cut;
  }
  for (size_t i = 0; i < data.size(); ++i)
    ASSERT_EQ(once[i], data[i] ^ key[i % 4]);
}

}  // namespace
}  // namespace sb::ws
