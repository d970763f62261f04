#include "common/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace sb {
namespace {

std::string decode_str(std::string_view s) {
  auto r = base64_decode(s);
  if (!r) return "<error>";
  return std::string(r->begin(), r->end());
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(base64_encode(std::string_view(plain)), enc);
    EXPECT_EQ(decode_str(enc), plain);
  }
}

TEST(Base64, RoundTripAllBytesAndLengths) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    std::vector<uint8_t> data(n);
    for (auto& b : data)
      b = static_cast<uint8_t>(rng());
    const std::string enc = base64_encode(data);
    EXPECT_EQ(enc.size(), base64_encoded_size(n));
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.ok()) << n;
    EXPECT_EQ(*dec, data);
  }
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zg=a", "Zm9v\n", "Zm 9", "Zm9-", "Zm9_",
                          "Zh==", /* non-zero padding bits */ "Zm9=", "Zg==Zg==", "Zm8=Zm8="}) {
    EXPECT_FALSE(base64_decode(bad).ok()) << bad;
  }
  // The WebSocket key check relies on this.
  auto key = base64_decode("dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 16u);
}

}  // namespace
}  // namespace sb
