#pragma once
// Frame writer. Server frames are unmasked (RFC 6455 §5.1); the header is produced separately so
// a large or shared payload (a broadcast) can go out with writev without being copied next to
// it. The masked client writer exists for tests and the load generator.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ws/frame.h"

namespace sb::ws {

/// A frame header held by value (at most 14 bytes).
struct FrameHeader {
  std::array<uint8_t, kMaxHeaderSize> bytes{};
  uint8_t size = 0;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
};

/// Header size for a payload of `len` bytes (unmasked; add 4 if masked).
constexpr size_t header_size(uint64_t len) {
  return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

/// Unmasked (server) header. `rsv1` marks a permessage-deflate compressed message.
FrameHeader make_header(Opcode op, uint64_t len, bool fin = true, bool rsv1 = false);
/// Masked (client) header carrying `key`; the payload must then be masked with apply_mask.
FrameHeader make_masked_header(Opcode op, uint64_t len, MaskKey key, bool fin = true,
                               bool rsv1 = false);

/// Writes a whole server frame into `out`. Returns bytes written, or 0 if `out` is too small.
size_t write_frame(std::span<uint8_t> out, Opcode op, std::span<const uint8_t> payload,
                   bool fin = true, bool rsv1 = false);
/// Appends a whole server frame to `out`.
void append_frame(std::vector<uint8_t>& out, Opcode op, std::span<const uint8_t> payload,
                  bool fin = true, bool rsv1 = false);
/// Appends a masked client frame (payload copied, then masked with `key`).
void append_masked_frame(std::vector<uint8_t>& out, Opcode op, std::span<const uint8_t> payload,
                         MaskKey key, bool fin = true, bool rsv1 = false);

/// Largest close reason that fits a control frame (125 - 2 bytes of code).
inline constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;
/// Bytes a close frame occupies at most (header + code + reason).
inline constexpr size_t kMaxCloseFrameSize = 2 + kMaxControlPayload;

/// Writes a close frame into `out` (>= kMaxCloseFrameSize bytes). A reason longer than 123 bytes
/// is cut at a UTF-8 character boundary. code 1005 (kNoStatus) writes an empty close payload.
/// Returns bytes written.
size_t write_close(std::span<uint8_t, kMaxCloseFrameSize> out, uint16_t code,
                   std::string_view reason = {});
void append_close(std::vector<uint8_t>& out, uint16_t code, std::string_view reason = {});
/// Ping / pong; payloads longer than 125 bytes are truncated (callers echo peer pings, which
/// the parser already bounded). Return bytes written (out >= 127 bytes).
size_t write_ping(std::span<uint8_t> out, std::span<const uint8_t> payload);
size_t write_pong(std::span<uint8_t> out, std::span<const uint8_t> payload);

}  // namespace sb::ws
