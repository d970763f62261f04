#include "bench/stamp.h"

#include <cstring>

namespace sb::bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_hex(uint8_t* out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(kHex[v & 0xf]);
    v >>= 4;
  }
}

bool get_hex(const uint8_t* in, int digits, uint64_t& v) {
  v = 0;
  for (int i = 0; i < digits; ++i) {
    const uint8_t c = in[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  return true;
}

}  // namespace

void write_stamp(std::span<uint8_t> out, const Stamp& s) {
  put_hex(out.data(), s.send_ns, 16);
  put_hex(out.data() + 16, s.seq, 16);
  put_hex(out.data() + 32, s.sender, 8);
  if (out.size() > kStampSize) std::memset(out.data() + kStampSize, '.', out.size() - kStampSize);
}

std::optional<Stamp> read_stamp(std::span<const uint8_t> payload) {
  if (payload.size() < kStampSize) return std::nullopt;
  Stamp s;
  uint64_t sender = 0;
  if (!get_hex(payload.data(), 16, s.send_ns) || !get_hex(payload.data() + 16, 16, s.seq) ||
      !get_hex(payload.data() + 32, 8, sender)) {
    return std::nullopt;
  }
  s.sender = static_cast<uint32_t>(sender);
  return s;
}

}  // namespace sb::bench
