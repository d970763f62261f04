#pragma once
// The stamp every benchmark message carries: send time (monotonic ns), sequence number, sender.
// Encoded as 40 lowercase hex characters at the start of the payload (the rest is filler), so
// the message is valid text — a chat message, as a browser would send one — and any receiver can
// compute the latency without a clock shared with anyone but itself.

#include <time.h>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sb::bench {

struct Stamp {
  uint64_t send_ns = 0;
  uint64_t seq = 0;
  uint32_t sender = 0;
  bool operator==(const Stamp&) const = default;
};

inline constexpr size_t kStampSize = 40;

/// Writes the stamp and fills the rest of `out` (at least kStampSize bytes) with filler text.
void write_stamp(std::span<uint8_t> out, const Stamp& s);
/// Reads the stamp of a payload; nullopt if it is not one of ours.
std::optional<Stamp> read_stamp(std::span<const uint8_t> payload);

/// CLOCK_MONOTONIC in nanoseconds (vDSO: tens of ns).
inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace sb::bench
