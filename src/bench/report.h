#pragma once
// Turns a RunResult into the figures people read: a text summary and a JSON document with the
// same numbers (for bench/results and plots).

#include <cstdio>
#include <string>

#include "bench/runner.h"

namespace sb::bench {

/// Derived figures, computed once for both outputs.
struct Figures {
  double sent_per_s = 0;
  double delivered_per_s = 0;
  uint64_t lost = 0;  ///< expected - received (0 if more arrived)
  double loss_pct = 0;
  double target_cpu_s = 0;         ///< all pids, during the window
  double target_cpu_pct = 0;       ///< of one core
  double delivered_per_cpu_s = 0;  ///< per target CPU-second
  double self_cpu_s = 0;
  double self_cpu_pct = 0;
  uint64_t target_rss_before = 0;  ///< all pids, before connecting
  uint64_t target_rss_connected = 0;
  uint64_t target_rss_end = 0;
  double bytes_per_connection = 0;  ///< (connected - before) / clients connected
  double connect_rate = 0;          ///< handshakes completed per second of connecting
  double connect_cpu_s = 0;         ///< target CPU from before the first connect to the last step
};

Figures compute_figures(const RunResult& r);
void print_summary(std::FILE* out, const RunResult& r, const Figures& f);
std::string to_json(const RunResult& r, const Figures& f);

}  // namespace sb::bench
