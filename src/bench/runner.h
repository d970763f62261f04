#pragma once
// Runs one benchmark from start to end: connect (bounded in flight and in time), warm up,
// measure, drain, close everything — then merges the per-loop stats into a RunResult.
// Everything stops by itself; nothing here waits without a deadline.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_config.h"
#include "bench/loop_stats.h"
#include "bench/proc_stats.h"
#include "common/result.h"

namespace sb::bench {

struct PidSamples {
  int pid = 0;
  ProcSample before_connect;  ///< before the first client connected
  ProcSample connected;       ///< every client connected, before any message
  ProcSample window_start;
  ProcSample window_end;
};

/// One step of a stepped connect (--steps): the state once `target` clients were attempted.
struct ConnectStep {
  uint64_t target = 0;     ///< clients attempted so far
  uint64_t connected = 0;  ///< open after the step
  uint64_t failed = 0;
  double seconds = 0;            ///< from raising the cap to the step's last handshake
  std::vector<ProcSample> pids;  ///< the targets, sampled once the step settled
};

struct RunResult {
  BenchConfig config;
  std::string scenario;
  std::string unit;        ///< "deliveries" / "round trips"
  uint64_t connected = 0;  ///< open when the window started
  uint64_t senders = 0;
  double connect_seconds = 0;
  /// Sum of the steps' connecting time (start of the step → its last handshake): the connect
  /// rate is connected / connect_busy_seconds.
  double connect_busy_seconds = 0;
  std::vector<ConnectStep> steps;
  double window_seconds = 0;  ///< actual length of the measurement window
  uint64_t expected = 0;      ///< messages sent in the window × receivers per message
  LoopStats totals;           ///< merged over the loops
  std::vector<PidSamples> pids;
  ProcSample self_window_start;  ///< the load generator itself
  ProcSample self_window_end;
};

Result<RunResult> run_bench(const BenchConfig& config);

}  // namespace sb::bench
