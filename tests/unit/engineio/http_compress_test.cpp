// Accept-Encoding negotiation and the gzip/deflate bodies of polling responses.

#include "engineio/http_compress.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "engineio/shared_packet.h"

namespace sb::engineio {
namespace {

std::string inflate_any(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 32);  // zlib or gzip header
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

TEST(EngineioCompress, Negotiation) {
  EXPECT_EQ(negotiate_encoding(""), ContentEncoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("identity"), ContentEncoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("gzip"), ContentEncoding::kGzip);
  EXPECT_EQ(negotiate_encoding("deflate"), ContentEncoding::kDeflate);
  EXPECT_EQ(negotiate_encoding("gzip, deflate, br"), ContentEncoding::kGzip);
  EXPECT_EQ(negotiate_encoding("deflate, gzip"), ContentEncoding::kGzip);  // tie: gzip
  EXPECT_EQ(negotiate_encoding("gzip;q=0.5, deflate"), ContentEncoding::kDeflate);
  EXPECT_EQ(negotiate_encoding("gzip;q=0"), ContentEncoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("*"), ContentEncoding::kGzip);
  EXPECT_EQ(negotiate_encoding("*, gzip;q=0"), ContentEncoding::kDeflate);
  EXPECT_EQ(negotiate_encoding("GZIP ; Q=1"), ContentEncoding::kGzip);
  EXPECT_EQ(negotiate_encoding("gzip;q=abc"), ContentEncoding::kIdentity);
}

TEST(EngineioCompress, RoundTripsBothFormatsRepeatedly) {
  std::string body;
  for (int i = 0; i < 500; ++i)
    body += "4message number " + std::to_string(i) + "\x1e";
  for (ContentEncoding e : {ContentEncoding::kGzip, ContentEncoding::kDeflate}) {
    for (int round = 0; round < 3; ++round) {  // the per-thread stream is reset between bodies
      std::string z;
      ASSERT_TRUE(compress_body(body, e, z));
      EXPECT_LT(z.size(), body.size() / 4);
      EXPECT_EQ(static_cast<uint8_t>(z[0]), e == ContentEncoding::kGzip ? 0x1f : 0x78);
      EXPECT_EQ(inflate_any(z), body);
    }
  }
  std::string z;
  EXPECT_FALSE(compress_body(body, ContentEncoding::kIdentity, z));
}

TEST(EngineioSharedPacket, TextAndBinaryForms) {
  const SharedPacket t = SharedPacket::text("hi");
  EXPECT_EQ(t.polling.view(), "4hi");
  EXPECT_EQ(t.frame.plain.view(), std::string("\x81\x03"
                                              "4hi",
                                              5));
  EXPECT_FALSE(t.frame.compressed);
  const uint8_t bytes[] = {1, 2, 3};
  const SharedPacket b = SharedPacket::binary_message(bytes);
  EXPECT_EQ(b.polling.view(), "bAQID");
  EXPECT_EQ(b.frame.plain.view(), std::string("\x82\x03\x01\x02\x03", 5));
  const LocalPacket local(b);
  EXPECT_TRUE(local.binary);
  EXPECT_EQ(local.polling.view(), "bAQID");
}

}  // namespace
}  // namespace sb::engineio
