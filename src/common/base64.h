#pragma once
// Base64 (RFC 4648, standard alphabet, with padding). Used by the WebSocket handshake
// (Sec-WebSocket-Key / Sec-WebSocket-Accept) and by Engine.IO for binary packets over polling.
// Decoding is strict — padding required, no whitespace, canonical trailing bits — because every
// peer we speak to (browsers, Node's Buffer, python) emits exactly that form.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sb {

/// Number of characters base64_encode produces for `n` input bytes.
constexpr size_t base64_encoded_size(size_t n) {
  return (n + 2) / 3 * 4;
}
/// Upper bound of bytes base64_decode_to writes for `n` input characters.
constexpr size_t base64_decoded_max_size(size_t n) {
  return n / 4 * 3;
}

/// Encodes `in` into `out`, which must hold base64_encoded_size(in.size()) chars. Returns chars
/// written.
size_t base64_encode_to(std::span<const uint8_t> in, char* out);
/// Encodes `in` into a new string.
std::string base64_encode(std::span<const uint8_t> in);
std::string base64_encode(std::string_view in);

/// Decodes strictly into `out` (at least base64_decoded_max_size(in.size()) bytes). Returns the
/// number of bytes written, or kProtocol on any malformed input.
Result<size_t> base64_decode_to(std::string_view in, uint8_t* out);
/// Decodes strictly into a new vector.
Result<std::vector<uint8_t>> base64_decode(std::string_view in);

}  // namespace sb
