// UTF-8 validation throughput on ASCII and on mixed chat-like text (Latin, Greek, CJK, emoji),
// against a byte-at-a-time reference validator run in the same invocation as the baseline.

#include <benchmark/benchmark.h>

#include <string>

#include "ws/utf8.h"

namespace {

std::string make_text(bool mixed) {
  const std::string ascii = "The quick brown fox jumps over the lazy dog. 0123456789 ";
  const std::string other = "κόσμε 日本語のテキスト café 😀👍 ";
  std::string s;
  while (s.size() < 65536)
    s += mixed ? ascii.substr(0, 20) + other : ascii;
  s.resize(65536);
  while (!sb::ws::is_valid_utf8(s))
    s.pop_back();  // do not end inside a sequence
  return s;
}

// Byte-at-a-time reference: the obvious implementation, no ASCII fast path.
bool naive_valid(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t b = p[i];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      lo = b == 0xE0 ? 0xA0 : 0x80;
      hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      lo = b == 0xF0 ? 0x90 : 0x80;
      hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

void run(benchmark::State& state, bool mixed, bool naive) {
  const std::string s = make_text(mixed);
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (auto _ : state) {
    bool ok = naive ? naive_valid(p, s.size()) : sb::ws::is_valid_utf8(std::span(p, s.size()));
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}

void BM_Utf8Ascii(benchmark::State& s) {
  run(s, false, false);
}
void BM_Utf8Mixed(benchmark::State& s) {
  run(s, true, false);
}
void BM_Utf8AsciiNaiveBaseline(benchmark::State& s) {
  run(s, false, true);
}
void BM_Utf8MixedNaiveBaseline(benchmark::State& s) {
  run(s, true, true);
}

BENCHMARK(BM_Utf8Ascii);
BENCHMARK(BM_Utf8Mixed);
BENCHMARK(BM_Utf8AsciiNaiveBaseline);
BENCHMARK(BM_Utf8MixedNaiveBaseline);

}  // namespace
