// Fuzzes the bounded Inflater two ways. Layout: [mode][limit byte][bytes...].
// mode even: the bytes are untrusted compressed data, inflated in input-chosen chunks; the output
//            must never exceed limit + 1 bytes.
// mode odd:  the bytes are a message; our Deflater's output must inflate back to it exactly.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ws/deflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sb::ws::Inflater;
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const size_t limit = size_t{data[1]} * 64 + 1;
  std::span<const uint8_t> body(data + 2, size - 2);
  const uint8_t bits = static_cast<uint8_t>(8 + (mode >> 1) % 8);

  if ((mode & 1) == 0) {
    Inflater inf(15, (mode & 2) != 0);
    std::vector<uint8_t> out;
    size_t off = 0;
    Inflater::Status s = Inflater::Status::kOk;
    const size_t step = 1 + (mode >> 2);
    while (off < body.size() && s == Inflater::Status::kOk) {
      const size_t n = std::min(step, body.size() - off);
      s = inf.inflate(body.subspan(off, n), out, limit);
      off += n;
    }
    if (s == Inflater::Status::kOk) s = inf.finish_message(out, limit);
    if (out.size() > limit + 1) abort();
    if (s == Inflater::Status::kOk && out.size() > limit) abort();
    return 0;
  }

  sb::ws::Deflater def(std::max<uint8_t>(bits, 9), (mode & 2) != 0);
  Inflater inf(15, (mode & 2) != 0);
  for (int round = 0; round < 2; ++round) {  // twice: exercises context takeover
    std::vector<uint8_t> c;
    if (!def.compress(body, c)) abort();
    std::vector<uint8_t> out;
    if (inf.inflate(c, out, body.size()) != Inflater::Status::kOk) abort();
    if (inf.finish_message(out, body.size()) != Inflater::Status::kOk) abort();
    if (!std::equal(out.begin(), out.end(), body.begin(), body.end())) abort();
  }
  return 0;
}
