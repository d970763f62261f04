#include "engineio/sid.h"

#include <gtest/gtest.h>

#include <random>

#include "common/base64.h"

#include <set>
#include <thread>

namespace sb::engineio {
namespace {

TEST(EngineioSid, EncodesOwner) {
  for (uint16_t node : {0, 1, 255, 256, 65535}) {
    for (uint8_t loop : {0, 1, 7, 255}) {
      const std::string sid = generate_sid({node, loop});
      ASSERT_EQ(sid.size(), kSidLength);
      for (char c : sid) {
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << sid;
      }
      auto owner = decode_sid(sid);
      ASSERT_TRUE(owner) << sid;
      EXPECT_EQ(owner->node_id, node);
      EXPECT_EQ(owner->loop_id, loop);
    }
  }
}

TEST(EngineioSid, Unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i)
    EXPECT_TRUE(seen.insert(generate_sid({3, 1})).second);
}

TEST(EngineioSid, UniqueAcrossThreads) {
  std::vector<std::string> a, b;
  std::thread t1([&] {
    for (int i = 0; i < 2000; ++i)
      a.push_back(generate_sid({1, 0}));
  });
  std::thread t2([&] {
    for (int i = 0; i < 2000; ++i)
      b.push_back(generate_sid({1, 1}));
  });
  t1.join();
  t2.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 4000u);
}

TEST(EngineioSid, ToleratesForeignIds) {
  EXPECT_FALSE(decode_sid(""));
  EXPECT_FALSE(decode_sid("eIMNfL3eE5wmxy9gAAAA"));  // a Node sid
  EXPECT_FALSE(decode_sid("abc"));
  EXPECT_FALSE(decode_sid(std::string(21, 'A')));
  EXPECT_FALSE(decode_sid("eIMNfL3eE5wmxy9gAA+/"));  // standard base64 chars
  EXPECT_FALSE(decode_sid("eIMNfL3eE5wmxy9gAA%2"));
  std::string sid = generate_sid({42, 3});
  for (size_t i = 0; i < sid.size(); ++i) {  // any changed character breaks the CRC
    std::string bad = sid;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(decode_sid(bad)) << "position " << i << ": " << bad;
  }
  // Random (Node-like) ids are almost never taken for ours (expected 20000 / 65536).
  // A fixed seed keeps the test deterministic (the bound holds for this sequence).
  std::mt19937_64 rng(20261128);
  int accepted = 0;
  uint8_t raw[15];
  for (int i = 0; i < 20000; ++i) {
    for (uint8_t& byte : raw)
      byte = static_cast<uint8_t>(rng());
    std::string s = base64_encode(std::span<const uint8_t>(raw, sizeof raw));
    for (char& c : s)
      c = c == '+' ? '-' : c == '/' ? '_' : c;
    accepted += decode_sid(s).has_value();
  }
  EXPECT_LE(accepted, 3);
}

}  // namespace
}  // namespace sb::engineio
