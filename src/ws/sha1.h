#pragma once
// SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept. Not for anything security-relevant: the
// handshake uses it as a fixed transform, and we avoid an OpenSSL dependency for one hash.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sb::ws {

using Sha1Digest = std::array<uint8_t, 20>;

/// Incremental SHA-1.
class Sha1 {
 public:
  Sha1();
  void update(std::span<const uint8_t> data);
  void update(std::string_view data);
  /// Pads and returns the digest; the object must not be updated afterwards.
  Sha1Digest finish();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

/// One-shot SHA-1.
Sha1Digest sha1(std::string_view data);

}  // namespace sb::ws
