#pragma once
// RFC 6455 frame vocabulary shared by the parser and the writer: opcodes, header sizes, limits,
// and the masking transform.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace sb::ws {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

/// Kind of a complete data message.
enum class MessageType : uint8_t { kText, kBinary };

constexpr bool is_control(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

/// Largest control frame payload (RFC 6455 §5.5).
inline constexpr size_t kMaxControlPayload = 125;
/// Largest header: 2 + 8 (64-bit length) + 4 (mask key).
inline constexpr size_t kMaxHeaderSize = 14;
/// Largest unmasked (server) header.
inline constexpr size_t kMaxServerHeaderSize = 10;

using MaskKey = std::array<uint8_t, 4>;

/// Per-connection limits enforced by the parser. Defaults suit a chat-style Socket.IO server.
struct Limits {
  /// Largest message (after reassembly and decompression) accepted; larger → close 1009.
  /// With permessage-deflate the compressed wire size is held to the same bound.
  size_t max_message_size = size_t{1} << 20;
  /// Most frames one message may be split into; more → close 1008 (policy: a peer that sends
  /// thousands of tiny fragments is costing us per-frame work, not sending a big message).
  uint32_t max_fragments = 1024;
};

/// XORs `data` with the mask key, starting at key phase `offset` (bytes of this frame's payload
/// already unmasked). Masking is its own inverse, so this both masks and unmasks.
inline void apply_mask(std::span<uint8_t> data, MaskKey key, size_t offset) {
  uint8_t rotated[8];
  for (size_t i = 0; i < 8; ++i)
    rotated[i] = key[(offset + i) & 3];
  uint64_t m;
  std::memcpy(&m, rotated, 8);
  uint8_t* p = data.data();
  const size_t n = data.size();
  size_t i = 0;
  // 8 is a multiple of the key length, so the key phase is unchanged across words.
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    w[0] ^= m;
    w[1] ^= m;
    w[2] ^= m;
    w[3] ^= m;
    std::memcpy(p + i, w, 32);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= m;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i)
    p[i] ^= rotated[i & 7];
}

}  // namespace sb::ws
