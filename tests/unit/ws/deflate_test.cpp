#include "ws/deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "ws_test_util.h"

namespace sb::ws {
namespace {

using test::bytes;
using test::str;
using Ev = std::vector<std::string>;

// ----- negotiation -------------------------------------------------------------------------------

TEST(DeflateNegotiation, DefaultsAndParameters) {
  const DeflateOptions opts;
  auto p = negotiate_deflate("permessage-deflate", opts);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->server_no_context_takeover);  // our default, see deflate.h
  EXPECT_FALSE(p->client_no_context_takeover);
  EXPECT_EQ(p->server_max_window_bits, 15);
  EXPECT_EQ(p->client_max_window_bits, 15);
  EXPECT_EQ(format_deflate_response(*p), "permessage-deflate; server_no_context_takeover");

  // What Chrome and Firefox send.
  p = negotiate_deflate("permessage-deflate; client_max_window_bits", opts);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->client_max_window_bits, 15);

  p = negotiate_deflate(
      "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; "
      "client_max_window_bits=\"12\"",
      opts);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->client_no_context_takeover);
  EXPECT_EQ(p->server_max_window_bits, 10);
  EXPECT_EQ(p->client_max_window_bits, 12);
  EXPECT_EQ(format_deflate_response(*p),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12");
}

TEST(DeflateNegotiation, ServerLimitsClientWindowOnlyWhenOffered) {
  DeflateOptions opts;
  opts.client_max_window_bits = 10;
  EXPECT_EQ(negotiate_deflate("permessage-deflate", opts)->client_max_window_bits, 15);
  EXPECT_EQ(
      negotiate_deflate("permessage-deflate; client_max_window_bits", opts)->client_max_window_bits,
      10);
  EXPECT_EQ(negotiate_deflate("permessage-deflate; client_max_window_bits=9", opts)
                ->client_max_window_bits,
            9);
}

TEST(DeflateNegotiation, DeclinesBadOffersAcceptsFirstGood) {
  const DeflateOptions opts;
  for (const char* bad :
       {"permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=08",
        "permessage-deflate; client_max_window_bits=abc", "permessage-deflate; unknown_param",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover=1", "permessage-deflate;",
        "permessage-deflate; server_max_window_bits=8",  // zlib cannot honour 8
        "x-webkit-deflate-frame", ""}) {
    EXPECT_FALSE(negotiate_deflate(bad, opts)) << bad;
  }
  auto p = negotiate_deflate(
      "foo, permessage-deflate; bogus, permessage-deflate; server_max_window_bits=11, "
      "permessage-deflate",
      opts);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 11);
  DeflateOptions off;
  off.enabled = false;
  EXPECT_FALSE(negotiate_deflate("permessage-deflate", off));
}

// ----- helpers -----------------------------------------------------------------------------------

// Independent raw deflate with zlib (not our Deflater): message + sync flush, tail stripped.
std::vector<uint8_t> zlib_compress(std::string_view msg, int window_bits = 15,
                                   int flush = Z_SYNC_FLUSH) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&z, msg.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(msg.data()));
  z.avail_in = static_cast<uInt>(msg.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, flush);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (flush == Z_SYNC_FLUSH) out.resize(out.size() - 4);
  return out;
}

std::vector<uint8_t> compressed_frame(const std::vector<uint8_t>& payload,
                                      Opcode op = Opcode::kText, bool fin = true,
                                      bool rsv1 = true) {
  std::vector<uint8_t> out;
  append_masked_frame(out, op, payload, test::kKey, fin, rsv1);
  return out;
}

// ----- inflate through the parser ---------------------------------------------------------------

TEST(Deflate, ParserInflatesZlibVectorsAtEverySplit) {
  const DeflateParams params;
  const std::string msg = "Hello, hello, hello, hello compressed world! \xE2\x82\xAC";
  const auto wire =
      test::cat({compressed_frame(zlib_compress(msg)), compressed_frame(zlib_compress("x")),
                 test::frame(Opcode::kText, "plain")});
  const Ev expect = {"text:" + msg, "text:x", "text:plain"};
  for (size_t at = 0; at <= wire.size(); ++at) {
    ASSERT_EQ(test::run_split(wire, at, {}, &params).events, expect) << at;
  }
  EXPECT_EQ(test::run_bytewise(wire, {}, &params).events, expect);
}

TEST(Deflate, FragmentedCompressedMessageWithPing) {
  const DeflateParams params;
  const std::string msg(5000, 'a');
  const auto c = zlib_compress(msg + "tail");
  const size_t half = c.size() / 2;
  const auto wire =
      test::cat({compressed_frame({c.begin(), c.begin() + static_cast<ptrdiff_t>(half)},
                                  Opcode::kBinary, false),
                 test::frame(Opcode::kPing, "p"),
                 compressed_frame({c.begin() + static_cast<ptrdiff_t>(half), c.end()},
                                  Opcode::kContinuation, true, false)});
  EXPECT_EQ(test::run_whole(wire, {}, &params).events, (Ev{"ping:p", "binary:" + msg + "tail"}));
  EXPECT_EQ(test::run_bytewise(wire, {}, &params).events, (Ev{"ping:p", "binary:" + msg + "tail"}));
}

TEST(Deflate, FinalBlockFromSenderIsAccepted) {
  // Some senders finish the stream (BFINAL) instead of sync-flushing: RFC 7692 §7.2.3.3 allows it.
  const DeflateParams params;
  const auto c = zlib_compress("finished stream", 15, Z_FINISH);
  const auto wire = test::cat({compressed_frame(c), compressed_frame(zlib_compress("next"))});
  EXPECT_EQ(test::run_whole(wire, {}, &params).events, (Ev{"text:finished stream", "text:next"}));
}

TEST(Deflate, ClientContextTakeover) {
  // One zlib stream across two messages: the second refers back to the first.
  DeflateParams params;
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  auto comp = [&](std::string_view m) {
    std::vector<uint8_t> out(1024);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m.data()));
    z.avail_in = static_cast<uInt>(m.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out - 4);
    return out;
  };
  const std::string m = "a repeated sentence that compresses well across messages";
  const auto c1 = comp(m);
  const auto c2 = comp(m);
  deflateEnd(&z);
  EXPECT_LT(c2.size(), c1.size());  // really uses the shared window
  const auto wire = test::cat({compressed_frame(c1), compressed_frame(c2)});
  EXPECT_EQ(test::run_whole(wire, {}, &params).events, (Ev{"text:" + m, "text:" + m}));
}

TEST(Deflate, BadCompressedInput) {
  const DeflateParams params;
  // Invalid deflate data (reserved block type 3) → 1007.
  EXPECT_EQ(test::run_whole(compressed_frame({0xff, 0xff, 0xff}), {}, &params).close_code, 1007);
  // Valid deflate, invalid UTF-8 in a text message → 1007.
  EXPECT_EQ(test::run_whole(compressed_frame(zlib_compress("ab\xC0\xAF")), {}, &params).close_code,
            1007);
}

TEST(Deflate, LimitAppliesToInflatedSize) {
  const DeflateParams params;
  Limits limits;
  limits.max_message_size = 1000;
  EXPECT_EQ(
      test::run_whole(compressed_frame(zlib_compress(std::string(1000, 'z'))), limits, &params)
          .events.size(),
      1u);
  EXPECT_EQ(
      test::run_whole(compressed_frame(zlib_compress(std::string(1001, 'z'))), limits, &params)
          .close_code,
      1009);
}

TEST(Deflate, CompressionBombStoppedWhileInflating) {
  // 100 MB of zeros compress to ~100 KB; the parser must stop at the 1 MiB limit.
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  const std::vector<uint8_t> zeros(1 << 20, 0);
  std::vector<uint8_t> c;
  uint8_t out[1 << 16];
  for (int i = 0; i < 100; ++i) {
    z.next_in = const_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    do {
      z.next_out = out;
      z.avail_out = sizeof out;
      deflate(&z, i == 99 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      c.insert(c.end(), out, out + (sizeof out - z.avail_out));
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  c.resize(c.size() - 4);
  ASSERT_LT(c.size(), 200000u);

  DeflateParams params;
  FrameParser p;  // default limit 1 MiB
  p.enable_deflate(params);
  test::Recorder rec;
  auto wire = compressed_frame(c, Opcode::kBinary);
  // Feed in reads of 16 KiB like a socket would, tracking the buffer size.
  size_t max_capacity = 0;
  FeedResult r;
  for (size_t off = 0; off < wire.size(); off += r.consumed) {
    r = p.feed(std::span<uint8_t>(wire).subspan(off, std::min<size_t>(16384, wire.size() - off)),
               rec);
    max_capacity = std::max(max_capacity, p.buffered_capacity());
    if (!r.ok()) break;
  }
  EXPECT_EQ(r.close_code, 1009);
  EXPECT_LE(max_capacity, (size_t{1} << 20) + 1);
  EXPECT_TRUE(rec.events.empty());
}

// ----- deflater ----------------------------------------------------------------------------------

std::string zlib_inflate(const std::vector<uint8_t>& c) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  std::vector<uint8_t> in = c;
  in.insert(in.end(), {0, 0, 0xff, 0xff});
  std::string out(1 << 20, '\0');
  z.next_in = in.data();
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

TEST(Deflate, DeflaterOutputInflatesWithPlainZlib) {
  Deflater d(15, true);
  std::mt19937 rng(1);
  for (size_t n : {0u, 1u, 63u, 64u, 1000u, 100000u}) {
    std::string msg(n, '\0');
    for (auto& ch : msg)
      ch = static_cast<char>('a' + rng() % 4);
    std::vector<uint8_t> c;
    ASSERT_TRUE(d.compress(bytes(msg), c));
    EXPECT_EQ(zlib_inflate(c), msg) << n;
  }
}

TEST(Deflate, BuildMessageFrameRoundTripsThroughParser) {
  DeflateOptions opts;
  Deflater d(15, true);
  const DeflateParams params;
  for (size_t n : {0u, 10u, 63u, 64u, 5000u, 70000u}) {
    const std::string msg(n, 'r');
    std::vector<uint8_t> server_frame;
    build_message_frame(server_frame, MessageType::kText, bytes(msg), &d,
                        opts.compression_threshold);
    const bool rsv1 = (server_frame[0] & 0x40) != 0;
    EXPECT_EQ(rsv1, n >= opts.compression_threshold) << n;
    // Re-mask the server frame's payload as if a client sent it, and parse it with our inflater.
    const uint8_t len7 = server_frame[1] & 0x7f;
    const size_t hlen = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
    std::vector<uint8_t> payload(server_frame.begin() + static_cast<ptrdiff_t>(hlen),
                                 server_frame.end());
    const auto wire = compressed_frame(payload, Opcode::kText, true, rsv1);
    EXPECT_EQ(test::run_whole(wire, {}, &params).events, Ev{"text:" + msg}) << n;
  }
  // Without a deflater the frame is plain.
  std::vector<uint8_t> plain;
  build_message_frame(plain, MessageType::kBinary, bytes("abc"), nullptr, 0);
  EXPECT_EQ(plain, (std::vector<uint8_t>{0x82, 3, 'a', 'b', 'c'}));
}

TEST(Deflate, EmptyMessagesWithContextTakeover) {
  // Regression (inflate_fuzz): zlib emits nothing for a second sync flush without input.
  Deflater d(15, false);
  Inflater inf(15, false);
  for (const std::string m : {"", "", "abc", "", "abc"}) {
    std::vector<uint8_t> c;
    ASSERT_TRUE(d.compress(bytes(m), c));
    std::vector<uint8_t> out;
    ASSERT_EQ(inf.inflate(c, out, 100), Inflater::Status::kOk);
    ASSERT_EQ(inf.finish_message(out, 100), Inflater::Status::kOk);
    EXPECT_EQ(str(out), m);
  }
}

TEST(Deflate, NoContextTakeoverMakesFramesIdentical) {
  // The "compress once per broadcast" property: the same message gives the same bytes each
  // time, independent of what was compressed before.
  Deflater d(15, true);
  const std::string msg(500, 'k');
  std::vector<uint8_t> a, b, other;
  build_message_frame(a, MessageType::kText, bytes(msg), &d, 64);
  build_message_frame(other, MessageType::kText, bytes(std::string(300, 'k')), &d, 64);
  build_message_frame(b, MessageType::kText, bytes(msg), &d, 64);
  EXPECT_EQ(a, b);
}

TEST(Deflate, InflaterDirectLimitBoundary) {
  Inflater inf(15, true);
  const auto c = zlib_compress(std::string(5000, 'q'));
  for (size_t limit : {4999u, 5000u}) {
    std::vector<uint8_t> out;
    Inflater::Status s = inf.inflate(c, out, limit);
    if (s == Inflater::Status::kOk) s = inf.finish_message(out, limit);
    EXPECT_EQ(s, limit < 5000 ? Inflater::Status::kTooLarge : Inflater::Status::kOk);
    EXPECT_LE(out.size(), limit + 1);
    EXPECT_LE(out.capacity(), limit + 1);
    inf.reset();
  }
}

}  // namespace
}  // namespace sb::ws
