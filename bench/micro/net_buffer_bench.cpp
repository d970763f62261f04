// Shared-buffer micro-benchmarks. Baselines in the same run:
//  - BlobPtr copy+destroy (atomic refcount) vs SharedBuffer copy+destroy (plain refcount): the
//    per-subscriber cost of queueing one broadcast frame, cross-thread handle vs loop-local handle.
//  - Broadcast of one 100-byte frame to 1,000 socketpair connections on a running loop, with the
//    end-of-turn flush (one sendmsg per connection): deliveries/s, shared frame vs copied bytes.

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "net/buffer.h"
#include "net/loop.h"

namespace {

using sb::net::BlobPtr;
using sb::net::SharedBuffer;

constexpr int kCopies = 1000;  // one frame queued for 1,000 subscribers

void BM_BlobPtrCopyDestroy(benchmark::State& state) {
  BlobPtr frame = BlobPtr::copy_of(std::string(100, 'f'));
  std::vector<BlobPtr> queued;
  queued.reserve(kCopies);
  for (auto _ : state) {
    for (int i = 0; i < kCopies; ++i)
      queued.push_back(frame);  // atomic increment each
    benchmark::DoNotOptimize(queued.data());
    queued.clear();  // atomic decrement each
  }
  state.SetItemsProcessed(state.iterations() * kCopies);
}
BENCHMARK(BM_BlobPtrCopyDestroy);

void BM_SharedBufferCopyDestroy(benchmark::State& state) {
  SharedBuffer frame = SharedBuffer::copy_of(std::string(100, 'f'));
  std::vector<SharedBuffer> queued;
  queued.reserve(kCopies);
  for (auto _ : state) {
    for (int i = 0; i < kCopies; ++i)
      queued.push_back(frame);  // plain increment each
    benchmark::DoNotOptimize(queued.data());
    queued.clear();
  }
  state.SetItemsProcessed(state.iterations() * kCopies);
}
BENCHMARK(BM_SharedBufferCopyDestroy);

// Two loops fanning out the same broadcast: with BlobPtr both threads hammer one atomic counter
// (one cache line bouncing); with SharedBuffer each thread wraps its own LocalBlob once.
BlobPtr g_shared_frame = BlobPtr::copy_of(std::string(100, 'g'));

void BM_BlobPtrCopyDestroy_TwoThreadsOneBlob(benchmark::State& state) {
  std::vector<BlobPtr> queued;
  queued.reserve(kCopies);
  for (auto _ : state) {
    for (int i = 0; i < kCopies; ++i)
      queued.push_back(g_shared_frame);
    benchmark::DoNotOptimize(queued.data());
    queued.clear();
  }
  state.SetItemsProcessed(state.iterations() * kCopies);
}
BENCHMARK(BM_BlobPtrCopyDestroy_TwoThreadsOneBlob)->Threads(2)->UseRealTime();

void BM_SharedBufferCopyDestroy_TwoThreadsOneBlob(benchmark::State& state) {
  SharedBuffer local(g_shared_frame);  // one atomic increment per loop
  std::vector<SharedBuffer> queued;
  queued.reserve(kCopies);
  for (auto _ : state) {
    for (int i = 0; i < kCopies; ++i)
      queued.push_back(local);
    benchmark::DoNotOptimize(queued.data());
    queued.clear();
  }
  state.SetItemsProcessed(state.iterations() * kCopies);
}
BENCHMARK(BM_SharedBufferCopyDestroy_TwoThreadsOneBlob)->Threads(2)->UseRealTime();

// ---- broadcast to 1,000 connections on a running loop ----

class NullHandler : public sb::net::ConnectionHandler {
 public:
  size_t on_data(sb::net::Connection&, std::span<uint8_t> d) override { return d.size(); }
};

struct BroadcastRig {
  static constexpr int kConns = 1000;
  sb::net::Loop loop{0, sb::net::LoopOptions{}, nullptr};
  std::thread thread;
  std::vector<int> peers;
  std::vector<sb::net::Connection*> conns;  // loop thread only
  bool ok = true;

  BroadcastRig() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < kConns; ++i) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        ok = false;
        return;
      }
      sockaddr_storage ss{};
      ss.ss_family = AF_UNIX;
      conns.push_back(loop.adopt(sv[0], ss, std::make_unique<NullHandler>()));
      peers.push_back(sv[1]);
    }
    thread = std::thread([this] { loop.run(); });
  }
  ~BroadcastRig() {
    loop.stop();
    if (thread.joinable()) thread.join();
    for (int fd : peers)
      close(fd);
  }

  // One turn: `write_all` runs on the loop; returns after that turn's end-of-turn flush.
  template <typename F>
  void turn(F&& write_all) {
    std::atomic<bool> done{false};
    loop.post([&] {
      write_all();
      // Posted from the loop itself: runs in the next turn, after this turn's flush.
      loop.post([&done] {
        done.store(true, std::memory_order_release);
        done.notify_one();
      });
    });
    done.wait(false, std::memory_order_acquire);
  }

  void drain_peers() {
    static char buf[1 << 16];
    for (int fd : peers) {
      while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
      }
    }
  }
};

template <bool kShared>
void BM_Broadcast100BytesTo1000Connections(benchmark::State& state) {
  BroadcastRig rig;
  if (!rig.ok) {
    state.SkipWithError("socketpair failed (descriptor limit?)");
    return;
  }
  const std::string payload(100, 'b');
  int64_t sends0 = sb::metrics::value_of("sb_net_send_calls_total");
  int64_t turns = 0;
  for (auto _ : state) {
    rig.turn([&] {
      if constexpr (kShared) {
        SharedBuffer frame = SharedBuffer::copy_of(payload);  // serialized once
        for (auto* c : rig.conns)
          c->write(frame);  // referenced by every queue
      } else {
        for (auto* c : rig.conns)
          c->write(payload);  // copied into every queue
      }
    });
    ++turns;
    if (turns % 32 == 0) {
      state.PauseTiming();
      rig.drain_peers();  // keep the kernel buffers from filling (not part of the measurement)
      state.ResumeTiming();
    }
  }
  int64_t sends = sb::metrics::value_of("sb_net_send_calls_total") - sends0;
  state.SetItemsProcessed(state.iterations() * BroadcastRig::kConns);
  state.counters["sendmsg_per_conn_per_turn"] =
      static_cast<double>(sends) / static_cast<double>(turns * BroadcastRig::kConns);
  state.counters["deliveries/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * BroadcastRig::kConns), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Broadcast100BytesTo1000Connections<true>)
    ->Name("BM_Broadcast100B_x1000_SharedFrame")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Broadcast100BytesTo1000Connections<false>)
    ->Name("BM_Broadcast100B_x1000_CopiedBytes")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
