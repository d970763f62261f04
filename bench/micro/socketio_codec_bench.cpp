// Socket.IO codec costs on the hot path. Decode: the EVENT
// `42["chat",{"room":"a","text":"hello world"}]` (the Engine.IO `4` stripped) through
// decode_packet, from an unpadded buffer (copied into the per-thread padded buffer) and from a
// padded one (parsed in place); baseline in the same run: simdjson's DOM parse of the same JSON
// alone, i.e. what validation costs before our checks. Encode: one broadcast packet in both
// transport forms (encode_event + encode_for_transports), with and without a binary
// attachment; baseline: a plain string copy of the resulting frame.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <simdjson.h>

#include "engineio/packet.h"
#include "socketio/decoder.h"
#include "socketio/encoder.h"

namespace {

using namespace sb::socketio;

constexpr std::string_view kChat = R"(2["chat",{"room":"a","text":"hello world"}])";

void BM_DecodeEvent(benchmark::State& state) {
  const std::string text(kChat);
  for (auto _ : state) {
    auto p = decode_packet(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEvent);

void BM_DecodeEventPadded(benchmark::State& state) {
  std::string buf(kChat);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  const std::string_view text(buf.data(), kChat.size());
  for (auto _ : state) {
    auto p = decode_packet(text, {}, true);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEventPadded);

void BM_DecoderOnText(benchmark::State& state) {  // through the state machine
  const std::string text(kChat);
  Decoder d;
  for (auto _ : state) {
    auto p = d.on_text(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecoderOnText);

void BM_Baseline_SimdjsonDomParse(benchmark::State& state) {
  simdjson::dom::parser parser;
  const simdjson::padded_string json(kChat.substr(1));
  for (auto _ : state) {
    simdjson::dom::element e;
    auto err = parser.parse(json).get(e);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_SimdjsonDomParse);

void BM_EncodeBroadcast(benchmark::State& state) {
  const std::string args = R"({"room":"a","text":"hello world"})";
  std::string pkt;
  for (auto _ : state) {
    pkt.clear();
    encode_event(pkt, "/", "chat", args);
    EncodedPacket e = encode_for_transports(pkt);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeBroadcast);

void BM_EncodeBroadcastBinary(benchmark::State& state) {
  std::string args;
  append_placeholder(args, 0);
  const std::vector<uint8_t> blob(static_cast<size_t>(state.range(0)), 7);
  std::string pkt;
  for (auto _ : state) {
    pkt.clear();
    encode_event(pkt, "/chat", "file", args, {}, 1);
    EncodedPacket e = encode_for_transports(pkt, {blob});
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeBroadcastBinary)->Arg(64)->Arg(4096);

void BM_Baseline_StringCopy(benchmark::State& state) {
  const std::string frame = "4" + std::string(kChat);
  for (auto _ : state) {
    std::string copy = frame;
    benchmark::DoNotOptimize(copy);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_StringCopy);

void BM_EnginePayloadDecode(benchmark::State& state) {  // a POST body of 16 events
  std::string body;
  for (int i = 0; i < 16; ++i) {
    if (i) body += '\x1e';
    body += "4" + std::string(kChat);
  }
  for (auto _ : state) {
    sb::engineio::PayloadDecoder dec(body);
    sb::engineio::Packet p;
    size_t n = 0;
    while (*dec.next(p))
      ++n;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_EnginePayloadDecode);

}  // namespace
