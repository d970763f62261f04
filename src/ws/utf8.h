#pragma once
// Incremental UTF-8 validation (RFC 3629) for WebSocket text messages. RFC 6455 §8.1 lets an
// endpoint fail as soon as it sees an invalid sequence, and Autobahn checks that we do ("fail
// fast"), so the validator carries the state of a sequence split between chunks (frames, or TCP
// reads) and reports the exact offset of the first bad byte.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sb::ws {

class Utf8Validator {
 public:
  /// Returned by feed() when the chunk contained no invalid byte.
  static constexpr size_t kValid = static_cast<size_t>(-1);

  /// Validates the next chunk. Returns kValid, or the offset within `chunk` of the first byte
  /// that cannot be part of valid UTF-8. After a failure the validator stays failed (every later
  /// feed returns 0) until reset().
  size_t feed(std::span<const uint8_t> chunk);
  /// True if everything fed so far is valid and no multi-byte sequence is left open.
  bool complete() const { return need_ == 0 && !failed_; }
  bool failed() const { return failed_; }
  void reset() { *this = Utf8Validator{}; }

 private:
  uint8_t need_ = 0;   // continuation bytes still expected
  uint8_t lo_ = 0x80;  // allowed range of the next continuation byte (narrower after E0, ED,
  uint8_t hi_ = 0xBF;  // F0, F4: that is what rejects overlongs, surrogates and > U+10FFFF)
  bool failed_ = false;
};

/// One-shot check of a complete string.
bool is_valid_utf8(std::span<const uint8_t> s);
bool is_valid_utf8(std::string_view s);

}  // namespace sb::ws
