// Fuzzes FrameParser with a differential oracle: the same bytes fed whole and fed in
// input-chosen read sizes (re-presenting unconsumed bytes, as the loop does) must give the same
// events and the same close code. Input layout: [flags][read-size seed][wire bytes...].
// flags bit0: deflate negotiated; bit1: client context takeover off.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ws/frame_parser.h"

namespace {

using namespace sb::ws;

class Digest : public FrameVisitor {
 public:
  void on_message(MessageType t, std::span<const uint8_t> p) override {
    add(t == MessageType::kText ? 'T' : 'B', p);
  }
  void on_ping(std::span<const uint8_t> p) override { add('P', p); }
  void on_pong(std::span<const uint8_t> p) override { add('O', p); }
  void on_close(uint16_t code, std::string_view r) override {
    log += 'C' + std::to_string(code) + ':' + std::string(r) + ';';
  }
  std::string log;

 private:
  void add(char kind, std::span<const uint8_t> p) {
    log += kind;
    log += std::to_string(p.size()) + ':';
    log.append(reinterpret_cast<const char*>(p.data()), p.size());
    log += ';';
  }
};

struct Outcome {
  std::string log;
  uint16_t code = 0;
};

Outcome run(const uint8_t* data, size_t size, uint8_t flags, uint8_t seed) {
  Limits limits;
  limits.max_message_size = 1 << 16;
  limits.max_fragments = 64;
  FrameParser parser(limits);
  if (flags & 1) {
    DeflateParams p;
    p.client_no_context_takeover = (flags & 2) != 0;
    parser.enable_deflate(p);
  }
  Digest d;
  std::vector<uint8_t> pending;
  size_t off = 0;
  uint32_t rng = seed;
  Outcome out;
  while (off < size) {
    size_t n = size - off;
    if (seed != 0) {
      rng = rng * 1103515245u + 12345u;
      n = std::min<size_t>(n, 1 + (rng >> 16) % 23);
    }
    pending.insert(pending.end(), data + off, data + off + n);
    off += n;
    const FeedResult r = parser.feed(pending, d);
    if (r.consumed > pending.size()) abort();
    pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(r.consumed));
    if (!r.ok()) {
      out.code = r.close_code;
      break;
    }
    // Never more than a header or a control frame may be left unconsumed.
    if (pending.size() > 2 + 125 + 4 && !parser.close_received()) abort();
  }
  out.log = d.log;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const uint8_t seed = data[1] == 0 ? 1 : data[1];
  const Outcome whole = run(data + 2, size - 2, flags, 0);
  const Outcome split = run(data + 2, size - 2, flags, seed);
  if (whole.code != split.code || whole.log != split.log) abort();
  return 0;
}
