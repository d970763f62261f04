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

struct RunResult {
  BenchConfig config;
  std::string scenario;
  std::string unit;        ///< "deliveries" / "round trips"
  uint64_t connected = 0;  ///< open when the window started
  uint64_t senders = 0;
  double connect_seconds = 0;
  double window_seconds = 0;  ///< actual length of the measurement window
  uint64_t expected = 0;      ///< messages sent in the window × receivers per message
  LoopStats totals;           ///< merged over the loops
  std::vector<PidSamples> pids;
  ProcSample self_window_start;  ///< the load generator itself
  ProcSample self_window_end;
};

Result<RunResult> run_bench(const BenchConfig& config);

}  // namespace sb::bench
