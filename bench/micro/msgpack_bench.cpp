// MessagePack transcoding micro-benchmarks: the per-message cost a node pays to publish a chat
// broadcast to Redis (JSON args → the adapter's msgpack envelope) and to deliver one it received
// (msgpack → JSON args). Baseline in the same run: a plain copy of the same bytes, so results read
// as "x times a memcpy of the message".

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "adapter/json_msgpack.h"
#include "adapter/msgpack.h"

namespace {

using sb::adapter::msgpack::Reader;
using sb::adapter::msgpack::Writer;

constexpr std::string_view kArgs =
    R"({"room":"lobby","user":"alice","text":"hello everyone, how is it going?","ts":1732780800123})";

// [uid, {type:2, data:[event, ...args], nsp}, {rooms, except, flags}] as the adapter publishes.
void encode_broadcast(std::string& out) {
  Writer w(out);
  w.array(3);
  w.str("YcF0LY");
  w.map(3);
  w.str("type");
  w.number(2);
  w.str("data");
  (void)sb::adapter::event_to_msgpack("chat", kArgs, {}, out);
  w.str("nsp");
  w.str("/");
  w.map(3);
  w.str("rooms");
  w.array(1);
  w.str("lobby");
  w.str("except");
  w.array(0);
  w.str("flags");
  w.map(0);
}

void copy_baseline(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.assign(kArgs);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(copy_baseline);

void encode_chat_broadcast(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_broadcast(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kArgs.size()));
}
BENCHMARK(encode_chat_broadcast);

// The receiving side: walk the envelope to `data` and turn the args back into JSON.
void decode_chat_broadcast(benchmark::State& state) {
  std::string msg;
  encode_broadcast(msg);
  std::string args;
  std::vector<std::vector<uint8_t>> atts;
  for (auto _ : state) {
    Reader r(msg);
    (void)r.next();  // [3]
    (void)r.next();  // uid
    auto packet = r.next();
    for (uint32_t i = 0; i < packet->size; ++i) {
      auto key = r.next();
      if (key->str() != "data") {
        (void)r.skip();
        continue;
      }
      auto data = r.next();
      (void)r.next();  // event name
      args.clear();
      atts.clear();
      (void)sb::adapter::msgpack_to_json_members(r, data->size - 1, args, atts);
    }
    benchmark::DoNotOptimize(args.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kArgs.size()));
}
BENCHMARK(decode_chat_broadcast);

}  // namespace
