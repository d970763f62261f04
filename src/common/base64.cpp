#include "common/base64.h"

#include <array>

namespace sb {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t)
    v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i)
    t[static_cast<uint8_t>(kAlphabet[i])] = i;
  return t;
}
constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

}  // namespace

size_t base64_encode_to(std::span<const uint8_t> in, char* out) {
  const uint8_t* p = in.data();
  size_t n = in.size();
  char* o = out;
  for (; n >= 3; n -= 3, p += 3) {
    uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (n == 1) {
    uint32_t v = uint32_t{p[0]} << 16;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n == 2) {
    uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  return static_cast<size_t>(o - out);
}

std::string base64_encode(std::span<const uint8_t> in) {
  std::string s(base64_encoded_size(in.size()), '\0');
  base64_encode_to(in, s.data());
  return s;
}

std::string base64_encode(std::string_view in) {
  return base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(in.data()), in.size()));
}

Result<size_t> base64_decode_to(std::string_view in, uint8_t* out) {
  if (in.size() % 4 != 0) return Error{Errc::kProtocol, "base64 length not a multiple of 4"};
  uint8_t* o = out;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    uint8_t c[4];
    size_t pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char ch = in[i + j];
      if (ch == '=' && last && j >= 2) {
        ++pad;
        c[j] = 0;
        continue;
      }
      // Data after padding ("ab=c") or a bad character.
      if (pad != 0) return Error{Errc::kProtocol, "base64 data after padding"};
      c[j] = kDecode[static_cast<uint8_t>(ch)];
      if (c[j] == kInvalid) return Error{Errc::kProtocol, "invalid base64 character"};
    }
    const uint32_t v =
        (uint32_t{c[0]} << 18) | (uint32_t{c[1]} << 12) | (uint32_t{c[2]} << 6) | c[3];
    // Canonical form only: the bits dropped by padding must be zero.
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) {
      return Error{Errc::kProtocol, "non-canonical base64 padding bits"};
    }
    *o++ = static_cast<uint8_t>(v >> 16);
    if (pad < 2) *o++ = static_cast<uint8_t>(v >> 8);
    if (pad < 1) *o++ = static_cast<uint8_t>(v);
  }
  return static_cast<size_t>(o - out);
}

Result<std::vector<uint8_t>> base64_decode(std::string_view in) {
  std::vector<uint8_t> out(base64_decoded_max_size(in.size()));
  Result<size_t> n = base64_decode_to(in, out.data());
  if (!n) return n.error();
  out.resize(*n);
  return out;
}

}  // namespace sb
