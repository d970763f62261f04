// Fuzzes the incremental UTF-8 validator against a simple reference decoder: same verdict, same
// first invalid position, for a split chosen by the input. Layout: [split byte][text...].

#include <cstdint>
#include <cstdlib>
#include <optional>

#include "ws/utf8.h"

namespace {

// Returns the offset of the first byte that makes the input invalid, or nullopt if valid
// (`open` set when it ends inside a sequence that could still be completed).
std::optional<size_t> reference(const uint8_t* s, size_t n, bool& open) {
  open = false;
  size_t i = 0;
  while (i < n) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) {
        open = true;
        return std::nullopt;
      }
      const uint8_t c = s[i + k];
      if (k == 1 ? (c < lo || c > hi) : ((c & 0xC0) != 0x80)) return i + k;
    }
    i += len;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t* s = data + 1;
  const size_t n = size - 1;
  const size_t cut = n == 0 ? 0 : data[0] % (n + 1);
  bool open = false;
  const std::optional<size_t> want = reference(s, n, open);

  sb::ws::Utf8Validator v;
  std::optional<size_t> got;
  size_t r = v.feed(std::span<const uint8_t>(s, cut));
  if (r != sb::ws::Utf8Validator::kValid) {
    got = r;
  } else {
    r = v.feed(std::span<const uint8_t>(s + cut, n - cut));
    if (r != sb::ws::Utf8Validator::kValid) got = cut + r;
  }
  if (got != want) abort();
  if (!got && v.complete() == open) abort();
  if (sb::ws::is_valid_utf8(std::span<const uint8_t>(s, n)) != (!want && !open)) abort();
  return 0;
}
