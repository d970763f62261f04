#pragma once
// Helpers shared by the ws unit tests: an event recorder, a client-frame builder, and a driver
// that plays the event loop (keeps unconsumed bytes and re-presents them with the next read).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame_parser.h"
#include "ws/frame_writer.h"

namespace sb::ws::test {

inline std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string str(std::span<const uint8_t> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

/// Records events as readable strings, e.g. "text:hello", "ping:", "close:1000:bye".
class Recorder : public FrameVisitor {
 public:
  void on_message(MessageType type, std::span<const uint8_t> p) override {
    events.push_back((type == MessageType::kText ? "text:" : "binary:") + str(p));
  }
  void on_ping(std::span<const uint8_t> p) override { events.push_back("ping:" + str(p)); }
  void on_pong(std::span<const uint8_t> p) override { events.push_back("pong:" + str(p)); }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  std::vector<std::string> events;
};

inline constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

/// A masked client frame.
inline std::vector<uint8_t> frame(Opcode op, std::string_view payload, bool fin = true,
                                  bool rsv1 = false, MaskKey key = kKey) {
  std::vector<uint8_t> out;
  append_masked_frame(out, op, bytes(payload), key, fin, rsv1);
  return out;
}

inline std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct RunResult {
  std::vector<std::string> events;
  uint16_t close_code = 0;
  size_t leftover = 0;  // bytes never consumed
};

/// Feeds `wire` in reads of the given sizes (the last read takes the rest), like the loop does:
/// unconsumed bytes stay at the front of the buffer and more data is appended behind them.
inline RunResult run(const std::vector<uint8_t>& wire, std::span<const size_t> reads,
                     Limits limits = {}, const DeflateParams* deflate = nullptr) {
  FrameParser parser(limits);
  if (deflate != nullptr) parser.enable_deflate(*deflate);
  Recorder rec;
  RunResult r;
  std::vector<uint8_t> pending;
  size_t off = 0;
  size_t i = 0;
  while (off < wire.size() || i == 0) {
    const size_t n = i < reads.size() ? std::min(reads[i], wire.size() - off) : wire.size() - off;
    ++i;
    pending.insert(pending.end(), wire.begin() + static_cast<ptrdiff_t>(off),
                   wire.begin() + static_cast<ptrdiff_t>(off + n));
    off += n;
    const FeedResult fr = parser.feed(pending, rec);
    pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(fr.consumed));
    if (!fr.ok()) {
      r.close_code = fr.close_code;
      break;
    }
    if (off >= wire.size()) break;
  }
  r.events = rec.events;
  r.leftover = pending.size();
  return r;
}

inline RunResult run_whole(const std::vector<uint8_t>& wire, Limits limits = {},
                           const DeflateParams* deflate = nullptr) {
  return run(wire, {}, limits, deflate);
}

/// Feeds `wire` one byte per read.
inline RunResult run_bytewise(const std::vector<uint8_t>& wire, Limits limits = {},
                              const DeflateParams* deflate = nullptr) {
  std::vector<size_t> reads(wire.size(), 1);
  return run(wire, reads, limits, deflate);
}

/// Feeds `wire` in two reads split at `at`.
inline RunResult run_split(const std::vector<uint8_t>& wire, size_t at, Limits limits = {},
                           const DeflateParams* deflate = nullptr) {
  const size_t reads[] = {at};
  return run(wire, reads, limits, deflate);
}

}  // namespace sb::ws::test
