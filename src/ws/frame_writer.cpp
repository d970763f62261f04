#include "ws/frame_writer.h"

#include <algorithm>

namespace sb::ws {

namespace {

FrameHeader header(Opcode op, uint64_t len, bool fin, bool rsv1, const MaskKey* key) {
  FrameHeader h;
  uint8_t* p = h.bytes.data();
  p[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(op));
  const uint8_t mask_bit = key != nullptr ? 0x80 : 0;
  size_t n = 2;
  if (len < 126) {
    p[1] = static_cast<uint8_t>(mask_bit | len);
  } else if (len <= 0xffff) {
    p[1] = mask_bit | 126;
    p[2] = static_cast<uint8_t>(len >> 8);
    p[3] = static_cast<uint8_t>(len);
    n = 4;
  } else {
    p[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i)
      p[2 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
    n = 10;
  }
  if (key != nullptr) {
    std::copy(key->begin(), key->end(), p + n);
    n += 4;
  }
  h.size = static_cast<uint8_t>(n);
  return h;
}

// Longest prefix of `s` of at most `max` bytes that does not split a UTF-8 sequence.
std::string_view cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80)
    --n;
  return s.substr(0, n);
}

size_t write_control(std::span<uint8_t> out, Opcode op, std::span<const uint8_t> payload) {
  return write_frame(out, op, payload.first(std::min(payload.size(), kMaxControlPayload)));
}

}  // namespace

FrameHeader make_header(Opcode op, uint64_t len, bool fin, bool rsv1) {
  return header(op, len, fin, rsv1, nullptr);
}

FrameHeader make_masked_header(Opcode op, uint64_t len, MaskKey key, bool fin, bool rsv1) {
  return header(op, len, fin, rsv1, &key);
}

size_t write_frame(std::span<uint8_t> out, Opcode op, std::span<const uint8_t> payload, bool fin,
                   bool rsv1) {
  const FrameHeader h = make_header(op, payload.size(), fin, rsv1);
  const size_t total = h.size + payload.size();
  if (out.size() < total) return 0;
  std::copy_n(h.bytes.data(), h.size, out.data());
  if (!payload.empty()) std::memcpy(out.data() + h.size, payload.data(), payload.size());
  return total;
}

void append_frame(std::vector<uint8_t>& out, Opcode op, std::span<const uint8_t> payload, bool fin,
                  bool rsv1) {
  const FrameHeader h = make_header(op, payload.size(), fin, rsv1);
  out.insert(out.end(), h.bytes.data(), h.bytes.data() + h.size);
  out.insert(out.end(), payload.begin(), payload.end());
}

void append_masked_frame(std::vector<uint8_t>& out, Opcode op, std::span<const uint8_t> payload,
                         MaskKey key, bool fin, bool rsv1) {
  const FrameHeader h = make_masked_header(op, payload.size(), key, fin, rsv1);
  out.insert(out.end(), h.bytes.data(), h.bytes.data() + h.size);
  const size_t start = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  apply_mask(std::span<uint8_t>(out).subspan(start), key, 0);
}

size_t write_close(std::span<uint8_t, kMaxCloseFrameSize> out, uint16_t code,
                   std::string_view reason) {
  uint8_t body[kMaxControlPayload];
  size_t n = 0;
  if (code != 0 && code != 1005) {
    body[0] = static_cast<uint8_t>(code >> 8);
    body[1] = static_cast<uint8_t>(code);
    const std::string_view r = cut_utf8(reason, kMaxCloseReason);
    if (!r.empty()) std::memcpy(body + 2, r.data(), r.size());  // an empty view may be null
    n = 2 + r.size();
  }
  return write_frame(out, Opcode::kClose, std::span<const uint8_t>(body, n));
}

void append_close(std::vector<uint8_t>& out, uint16_t code, std::string_view reason) {
  std::array<uint8_t, kMaxCloseFrameSize> buf;
  const size_t n = write_close(buf, code, reason);
  out.insert(out.end(), buf.data(), buf.data() + n);
}

size_t write_ping(std::span<uint8_t> out, std::span<const uint8_t> payload) {
  return write_control(out, Opcode::kPing, payload);
}

size_t write_pong(std::span<uint8_t> out, std::span<const uint8_t> payload) {
  return write_control(out, Opcode::kPong, payload);
}

}  // namespace sb::ws
