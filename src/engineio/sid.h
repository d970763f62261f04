#pragma once
// Engine.IO session ids that name their owner. A sid is 20 base64url characters (15 bytes, the
// shape of Node's ids) laid out as
//   [0] tag 0xB5 · [1..2] node id (big endian) · [3] loop id · [4..13] 80 random bits · [14] check
// The random bytes come from the kernel CSPRNG (getrandom), buffered per thread. The tag and the
// check byte let decode_sid tell our ids from foreign ones (Node's are random: a foreign id is
// mistaken for ours with probability 2^-16, and then merely routed to a node that answers
// "Session ID unknown"). The node id is readable by a sid-routing balancer without a secret.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::engineio {

inline constexpr size_t kSidLength = 20;

struct SidOwner {
  uint16_t node_id = 0;
  uint8_t loop_id = 0;
  bool operator==(const SidOwner&) const = default;
};

/// A new sid owned by (node_id, loop_id). Safe to call from any thread.
std::string generate_sid(SidOwner owner);
/// The owner named by `sid`, or nullopt if `sid` is not one of ours (wrong length, characters
/// outside base64url, wrong tag or check byte).
std::optional<SidOwner> decode_sid(std::string_view sid);

/// Fills `out` with `n` bytes from the per-thread buffer of getrandom() output.
void random_bytes(uint8_t* out, size_t n);

}  // namespace sb::engineio
