#include "ws/sha1.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::ws {
namespace {

std::string hex(const Sha1Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

TEST(Sha1, KnownVectors) {  // FIPS 180 / RFC 3174 examples
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1("The quick brown fox jumps over the lazy dog")),
            "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, IncrementalMatchesOneShotAtEverySplit) {
  const std::string msg(200, 'x');
  for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 200u}) {
    const std::string m = msg.substr(0, n);
    const Sha1Digest want = sha1(m);
    for (size_t a = 0; a <= n; ++a) {
      Sha1 s;
      s.update(std::string_view(m).substr(0, a));
      s.update(std::string_view(m).substr(a));
      ASSERT_EQ(s.finish(), want) << n << " " << a;
    }
  }
}

}  // namespace
}  // namespace sb::ws
