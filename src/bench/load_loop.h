#pragma once
// One load-generator thread: a net::Loop (the server's own event loop, without listeners), its
// share of the clients, and its scenario worker. Clients with global id g live on loop
// g % loop_count, so senders and receivers spread evenly.
//
// Cross-thread contract: the runner (main thread) only post()s to the loop and reads progress()
// — relaxed atomics the loop publishes from its 10 ms tick, never touched on the per-message
// path. stats() may be read once the thread has been joined.

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "bench/client.h"
#include "bench/loop_stats.h"
#include "bench/scenario.h"
#include "net/loop.h"
#include "net/timer_wheel.h"

namespace sb::bench {

struct LoopProgress {
  uint64_t connected = 0;  ///< open now
  uint64_t failed = 0;
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t sent_in_window = 0;
  uint64_t delivered_in_window = 0;
  uint64_t last_open_ns = 0;  ///< when the latest handshake completed
  uint32_t settled_for = 0;   ///< the connect cap (set_cap) this loop has finished
  bool connect_done = false;
};

class LoadLoop final : public ClientEvents {
 public:
  LoadLoop(int index, int count, const BenchConfig& config, const Scenario& scenario,
           ClientFactory& factory, const std::vector<sockaddr_in>& sources);
  ~LoadLoop() override;
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  /// Starts the thread and begins connecting this loop's clients with a global id < `cap`.
  void start(uint64_t connect_deadline_ns, uint32_t cap);
  /// Connects more: clients with a global id < `cap` (thread-safe). Stepped connects use it.
  void set_cap(uint32_t cap);
  /// Begins sending (thread-safe).
  void start_sending(const Window& w);
  /// Closes every client gracefully (close frame 1000) and ends the thread (thread-safe).
  void shutdown(uint32_t timeout_ms);
  void join();

  LoopProgress progress() const;
  const LoopStats& stats() const { return stats_; }

 private:
  // ClientEvents
  void on_open(BenchClient& c) override;
  void on_message(BenchClient& c, std::span<const uint8_t> payload) override;
  void on_closed(BenchClient& c, bool was_open, std::string_view why) override;

  void connect_more();
  void apply_cap(uint32_t cap);
  void schedule_connect_more();
  void on_tick();
  void publish();

  int index_;
  int count_;
  const BenchConfig& config_;
  ClientFactory& factory_;
  const std::vector<sockaddr_in>& sources_;
  net::Loop loop_;  // declared before anything armed on its timer wheel
  LoopStats stats_;
  std::unique_ptr<ScenarioWorker> worker_;
  net::Timer tick_timer_;
  std::thread thread_;

  uint32_t my_clients_ = 0;  // clients this loop owns
  uint32_t cap_ = 0;         // global id cap (set_cap)
  uint32_t local_cap_ = 0;   // local clients below the cap
  uint64_t last_open_ns_ = 0;
  uint32_t next_ = 0;  // next local client to connect
  uint32_t in_flight_ = 0;
  uint32_t max_in_flight_ = 1;
  uint64_t open_now_ = 0;
  uint64_t connect_deadline_ns_ = 0;
  bool connect_scheduled_ = false;
  bool connect_done_ = false;
  bool stopping_ = false;

  struct Published {
    std::atomic<uint64_t> connected{0}, failed{0}, sent{0}, delivered{0}, sent_in_window{0},
        delivered_in_window{0}, last_open_ns{0};
    std::atomic<uint32_t> settled_for{0};
    std::atomic<bool> connect_done{false};
  };
  alignas(64) Published pub_;
};

}  // namespace sb::bench
