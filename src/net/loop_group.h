#pragma once
// The node's loops: N threads, each running one Loop with its own SO_REUSEPORT listener, so the
// kernel spreads accepted connections over the loops and no accept lock is shared.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "net/loop.h"

namespace sb::net {

class LoopGroup {
 public:
  LoopGroup(int threads, const LoopOptions& options);
  LoopGroup(const LoopGroup&) = delete;
  LoopGroup& operator=(const LoopGroup&) = delete;
  ~LoopGroup();

  /// Binds one listening socket per loop on host:port (port 0 picks a free port, the same for all
  /// loops). Call before start(). Returns the bound port.
  Result<uint16_t> listen(const std::string& host, uint16_t port, const HandlerFactory& factory);

  /// Starts one thread per loop.
  void start();
  /// Stop accepting, let every connection say goodbye, wait for them (at most timeout_ms), join.
  void shutdown(uint32_t timeout_ms);
  /// Stops every loop now and joins the threads.
  void stop();

  int size() const { return static_cast<int>(loops_.size()); }
  Loop& loop(int i) { return *loops_[static_cast<size_t>(i)]; }

  /// Node-wide connection admission (used by the loops' accept path; not on the data path).
  bool try_admit();
  void release_admission();
  uint32_t connection_count() const { return live_.load(std::memory_order_relaxed); }

 private:
  LoopOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> live_{0};
};

/// Creates a non-blocking listening TCP socket with SO_REUSEADDR and SO_REUSEPORT.
Result<int> make_listen_socket(const std::string& host, uint16_t port, int backlog = 1024);
/// The port a bound socket listens on.
uint16_t local_port(int fd);

}  // namespace sb::net
