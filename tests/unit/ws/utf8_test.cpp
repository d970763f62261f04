#include "ws/utf8.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace sb::ws {
namespace {

using Bytes = std::vector<uint8_t>;

// Straightforward reference decoder: decode the code point, then reject overlongs, surrogates
// and values above U+10FFFF. `allow_open_tail` accepts a final incomplete sequence if some
// continuation could still make it valid.
bool ref_valid(const Bytes& s, bool allow_open_tail) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      if (!allow_open_tail) return false;
      // Try completions; {80, 90, A0} hits every allowed range of a next byte.
      const size_t missing = i + len - s.size();
      size_t combos = 1;
      for (size_t k = 0; k < missing; ++k)
        combos *= 3;
      static constexpr uint8_t kFill[3] = {0x80, 0x90, 0xA0};
      for (size_t c = 0; c < combos; ++c) {
        Bytes t(s.begin() + static_cast<ptrdiff_t>(i), s.end());
        for (size_t k = 0, cc = c; k < missing; ++k, cc /= 3)
          t.push_back(kFill[cc % 3]);
        if (ref_valid(t, false)) return true;
      }
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Offset of the first byte after which no continuation can make the input valid.
std::optional<size_t> ref_first_invalid(const Bytes& s) {
  for (size_t k = 1; k <= s.size(); ++k) {
    if (!ref_valid(Bytes(s.begin(), s.begin() + static_cast<ptrdiff_t>(k)), true)) return k - 1;
  }
  return std::nullopt;
}

struct Outcome {
  std::optional<size_t> bad;  // absolute offset of the first invalid byte
  bool complete = false;
  bool operator==(const Outcome&) const = default;
};

Outcome validate_in_chunks(const Bytes& s, const std::vector<size_t>& cuts) {
  Utf8Validator v;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(s.size());
  for (size_t end : ends) {
    const size_t r = v.feed(std::span<const uint8_t>(s).subspan(start, end - start));
    if (r != Utf8Validator::kValid) return {start + r, false};
    start = end;
  }
  return {std::nullopt, v.complete()};
}

Outcome expected(const Bytes& s) {
  const auto bad = ref_first_invalid(s);
  if (bad) return {bad, false};
  return {std::nullopt, ref_valid(s, false)};
}

TEST(Utf8, AllOneAndTwoByteSequencesWithPositions) {
  for (int a = 0; a < 256; ++a) {
    const Bytes s = {static_cast<uint8_t>(a)};
    ASSERT_EQ(validate_in_chunks(s, {}), expected(s)) << a;
  }
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const Bytes s = {static_cast<uint8_t>(a), static_cast<uint8_t>(b)};
      const Outcome e = expected(s);
      ASSERT_EQ(validate_in_chunks(s, {}), e) << a << " " << b;
      ASSERT_EQ(validate_in_chunks(s, {1}), e) << a << " " << b << " split";
    }
  }
}

TEST(Utf8, AllThreeByteSequences) {
  size_t valid = 0;
  for (uint32_t x = 0; x < (1u << 24); ++x) {
    const uint8_t s[3] = {static_cast<uint8_t>(x >> 16), static_cast<uint8_t>(x >> 8),
                          static_cast<uint8_t>(x)};
    const bool got = is_valid_utf8(std::span<const uint8_t>(s, 3));
    // Only sequences with a lead byte >= 0x80 can disagree with "all ASCII": check them all
    // against the reference; ASCII-led ones are cheap to check too.
    const bool want = ref_valid(Bytes(s, s + 3), false);
    if (got != want) FAIL() << std::hex << x;
    valid += got;
  }
  // 128^3 ASCII + 2-byte combos + 3-byte scalar values, computed independently:
  // ASCII³ = 2097152; (ASCII, 2B) and (2B, ASCII) = 2 * 128 * 1920; 3-byte = 61440.
  EXPECT_EQ(valid, 2097152u + 2u * 128u * 1920u + 61440u);
}

TEST(Utf8, AllFourByteLeadsWithContinuations) {
  for (int lead = 0xF0; lead <= 0xFF; ++lead) {
    for (int b1 = 0x70; b1 < 0xD0; ++b1) {
      for (int b2 : {0x7F, 0x80, 0x9F, 0xBF, 0xC0}) {
        for (int b3 : {0x7F, 0x80, 0xBF, 0xC0}) {
          const Bytes s = {static_cast<uint8_t>(lead), static_cast<uint8_t>(b1),
                           static_cast<uint8_t>(b2), static_cast<uint8_t>(b3)};
          const Outcome e = expected(s);
          for (size_t cut = 0; cut <= 4; ++cut) {
            ASSERT_EQ(validate_in_chunks(s, {cut}), e) << std::hex << lead << b1 << b2 << b3;
          }
        }
      }
    }
  }
}

Bytes encode(uint32_t cp) {
  if (cp < 0x80) return {static_cast<uint8_t>(cp)};
  if (cp < 0x800)
    return {static_cast<uint8_t>(0xC0 | (cp >> 6)), static_cast<uint8_t>(0x80 | (cp & 0x3F))};
  if (cp < 0x10000) {
    return {static_cast<uint8_t>(0xE0 | (cp >> 12)),
            static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<uint8_t>(0x80 | (cp & 0x3F))};
  }
  return {static_cast<uint8_t>(0xF0 | (cp >> 18)), static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
          static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
          static_cast<uint8_t>(0x80 | (cp & 0x3F))};
}

TEST(Utf8, BoundaryCodePoints) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu,
                      0x10000u, 0x10FFFFu}) {
    EXPECT_TRUE(is_valid_utf8(encode(cp))) << std::hex << cp;
  }
  for (uint32_t cp : {0xD800u, 0xDBFFu, 0xDC00u, 0xDFFFu, 0x110000u, 0x13FFFFu}) {
    EXPECT_FALSE(is_valid_utf8(encode(cp))) << std::hex << cp;
  }
  // Overlong forms of '/' and NUL, and the never-valid bytes.
  for (const Bytes& b :
       {Bytes{0xC0, 0xAF}, Bytes{0xC1, 0xBF}, Bytes{0xE0, 0x80, 0xAF}, Bytes{0xE0, 0x9F, 0xBF},
        Bytes{0xF0, 0x80, 0x80, 0xAF}, Bytes{0xF0, 0x8F, 0xBF, 0xBF},
        Bytes{0xF8, 0x88, 0x80, 0x80, 0x80}, Bytes{0xFE}, Bytes{0xFF}, Bytes{0x80}, Bytes{0xBF}}) {
    EXPECT_FALSE(is_valid_utf8(b));
  }
  // Every scalar value round-trips.
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    ASSERT_TRUE(is_valid_utf8(encode(cp))) << std::hex << cp;
  }
}

TEST(Utf8, EverySplitOfMixedText) {
  const std::string text = "Hello, κόσμε! \xE2\x82\xAC 100 — \xF0\x9F\x98\x80 ok " +
                           std::string(40, 'a') + "\xF4\x8F\xBF\xBF";
  Bytes good(text.begin(), text.end());
  ASSERT_EQ(expected(good), (Outcome{std::nullopt, true}));
  Bytes bad = good;
  bad.insert(bad.begin() + 30, {0xED, 0xA0, 0x80});  // a surrogate in the middle
  Bytes truncated = good;
  truncated.pop_back();
  for (const Bytes* s : {&good, &bad, &truncated}) {
    const Outcome e = expected(*s);
    for (size_t a = 0; a <= s->size(); ++a) {
      ASSERT_EQ(validate_in_chunks(*s, {a}), e) << a;
      for (size_t b = a; b <= s->size(); b += 3)
        ASSERT_EQ(validate_in_chunks(*s, {a, b}), e);
    }
    // One byte per chunk.
    std::vector<size_t> cuts;
    for (size_t i = 1; i < s->size(); ++i)
      cuts.push_back(i);
    ASSERT_EQ(validate_in_chunks(*s, cuts), e);
  }
}

TEST(Utf8, FastPathPositions) {
  // An invalid byte at every position of a long ASCII run is found exactly.
  for (size_t pos = 0; pos < 80; ++pos) {
    Bytes s(80, 'a');
    s[pos] = 0xFF;
    Utf8Validator v;
    EXPECT_EQ(v.feed(s), pos);
    EXPECT_TRUE(v.failed());
    EXPECT_EQ(v.feed(s), 0u);  // sticky
    v.reset();
    EXPECT_EQ(v.feed(Bytes(10, 'b')), Utf8Validator::kValid);
  }
}

}  // namespace
}  // namespace sb::ws
