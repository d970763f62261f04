#include "engineio/sid.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sb::engineio {

namespace {

constexpr uint8_t kTag = 0xB5;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Kernel randomness, fetched 4 KiB at a time: one getrandom() per ~400 sids per thread.
struct RandomPool {
  std::array<uint8_t, 4096> bytes{};
  size_t pos = bytes.size();

  void refill() {
    size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t r = getrandom(bytes.data() + got, bytes.size() - got, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        std::abort();  // no entropy source: refuse to hand out guessable session ids
      }
      got += static_cast<size_t>(r);
    }
    pos = 0;
  }
};

thread_local RandomPool t_pool;

// CRC-8 (polynomial x^8+x^2+x+1) of bytes 0..13. A CRC of degree 8 detects every burst of up to
// 8 flipped bits, and one base64 character covers 6 contiguous bits: any single mistyped or
// altered character of a sid is always caught.
uint8_t check_byte(const uint8_t* b) {
  uint8_t crc = 0;
  for (int i = 0; i < 14; ++i) {
    crc ^= b[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
    }
  }
  return crc;
}

int alphabet_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

void random_bytes(uint8_t* out, size_t n) {
  while (n > 0) {
    if (t_pool.pos == t_pool.bytes.size()) t_pool.refill();
    const size_t take = std::min(n, t_pool.bytes.size() - t_pool.pos);
    std::memcpy(out, t_pool.bytes.data() + t_pool.pos, take);
    // Used bytes are wiped so a later memory disclosure cannot reveal issued ids.
    std::memset(t_pool.bytes.data() + t_pool.pos, 0, take);
    t_pool.pos += take;
    out += take;
    n -= take;
  }
}

std::string generate_sid(SidOwner owner) {
  std::array<uint8_t, 15> b{};
  b[0] = kTag;
  b[1] = static_cast<uint8_t>(owner.node_id >> 8);
  b[2] = static_cast<uint8_t>(owner.node_id);
  b[3] = owner.loop_id;
  random_bytes(b.data() + 4, 10);
  b[14] = check_byte(b.data());
  std::string sid(kSidLength, '\0');
  for (size_t i = 0, o = 0; i < b.size(); i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    sid[o++] = kAlphabet[(v >> 18) & 63];
    sid[o++] = kAlphabet[(v >> 12) & 63];
    sid[o++] = kAlphabet[(v >> 6) & 63];
    sid[o++] = kAlphabet[v & 63];
  }
  return sid;
}

std::optional<SidOwner> decode_sid(std::string_view sid) {
  if (sid.size() != kSidLength) return std::nullopt;
  std::array<uint8_t, 15> b{};
  for (size_t i = 0, o = 0; i < kSidLength; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int x = alphabet_index(sid[i + j]);
      if (x < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(x);
    }
    b[o++] = static_cast<uint8_t>(v >> 16);
    b[o++] = static_cast<uint8_t>(v >> 8);
    b[o++] = static_cast<uint8_t>(v);
  }
  if (b[0] != kTag || b[14] != check_byte(b.data())) return std::nullopt;
  return SidOwner{static_cast<uint16_t>((b[1] << 8) | b[2]), b[3]};
}

}  // namespace sb::engineio
