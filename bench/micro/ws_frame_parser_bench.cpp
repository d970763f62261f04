// FrameParser throughput on masked client frames of 16 B, 1 KiB and 64 KiB, about 1 MiB of wire
// per iteration. Binary frames are re-fed without restoring (unmasking garbles the payload,
// which binary messages don't inspect); text frames use an all-zero mask key so the in-place
// unmask (same cost) leaves valid UTF-8 behind. Baseline in the same run: memcpy of the same
// bytes, i.e. what touching the data once costs.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "ws/frame_parser.h"
#include "ws/frame_writer.h"

namespace {

using namespace sb::ws;

struct Sink : FrameVisitor {
  void on_message(MessageType, std::span<const uint8_t> p) override { bytes += p.size(); }
  void on_ping(std::span<const uint8_t>) override {}
  void on_pong(std::span<const uint8_t>) override {}
  void on_close(uint16_t, std::string_view) override {}
  size_t bytes = 0;
};

std::vector<uint8_t> make_stream(size_t frame_size, Opcode op, MaskKey key, size_t* frames) {
  std::vector<uint8_t> payload(frame_size);
  for (size_t i = 0; i < frame_size; ++i)
    payload[i] = static_cast<uint8_t>('a' + i % 26);
  std::vector<uint8_t> wire;
  *frames = std::max<size_t>(1, (size_t{1} << 20) / frame_size);
  for (size_t i = 0; i < *frames; ++i)
    append_masked_frame(wire, op, payload, key);
  return wire;
}

void parse(benchmark::State& state, Opcode op, MaskKey key, size_t read_size) {
  size_t frames = 0;
  std::vector<uint8_t> wire = make_stream(static_cast<size_t>(state.range(0)), op, key, &frames);
  FrameParser parser;
  Sink sink;
  for (auto _ : state) {
    size_t off = 0;
    while (off < wire.size()) {
      // Like the loop: a read of read_size bytes, unconsumed bytes presented again.
      const size_t end = std::min(wire.size(), off + read_size);
      const FeedResult r = parser.feed(std::span<uint8_t>(wire).subspan(off, end - off), sink);
      if (!r.ok()) state.SkipWithError("parse error");
      off += r.consumed;
      if (r.consumed == 0 && end == wire.size()) break;
    }
    benchmark::DoNotOptimize(sink.bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}

void BM_ParseBinary(benchmark::State& s) {
  parse(s, Opcode::kBinary, {1, 2, 3, 4}, 1 << 30);
}
void BM_ParseText(benchmark::State& s) {
  parse(s, Opcode::kText, {0, 0, 0, 0}, 1 << 30);
}
// 16 KiB reads: large frames are consumed piecewise into the message buffer.
void BM_ParseBinaryReads16K(benchmark::State& s) {
  parse(s, Opcode::kBinary, {1, 2, 3, 4}, 16384);
}

void BM_BaselineMemcpy(benchmark::State& state) {
  std::vector<uint8_t> a(size_t{1} << 20, 1), b(a.size());
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), a.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * a.size()));
}

BENCHMARK(BM_ParseBinary)->Arg(16)->Arg(1024)->Arg(65536);
BENCHMARK(BM_ParseText)->Arg(16)->Arg(1024)->Arg(65536);
BENCHMARK(BM_ParseBinaryReads16K)->Arg(1024)->Arg(65536);
BENCHMARK(BM_BaselineMemcpy);

}  // namespace
