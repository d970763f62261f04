#pragma once
// Samples another process's CPU time and memory from /proc: the target server's cost per
// delivery is the figure a benchmark of a server is for.

#include <cstdint>

namespace sb::bench {

struct ProcSample {
  bool ok = false;
  double cpu_seconds = 0;  ///< utime + stime (/proc/PID/stat), all threads
  uint64_t rss_bytes = 0;  ///< VmRSS (/proc/PID/status)
};

/// Reads /proc/PID/stat and /proc/PID/status; ok = false if the process is gone.
ProcSample sample_process(int pid);
/// This process (the load generator), for its own CPU use.
ProcSample sample_self();

}  // namespace sb::bench
