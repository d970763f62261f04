#pragma once
// `switchboard bench SCENARIO --target A --compare B`: the same scenario against two targets,
// alternating (A B, B A, A B, ...) so that drifts of a shared machine hit both alike, then the
// medians side by side and their ratio A/B. Ratios are what a benchmark on a noisy machine can
// tell; the absolute figures are printed too, per run.

#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_config.h"
#include "common/result.h"

namespace sb::bench {

struct CompareOptions {
  std::string target_b;
  std::vector<int> pids_b;
  int repetitions = 3;
};

/// Runs everything, printing each run's summary and then the comparison table to `out`.
/// Writes the JSON of every run and the medians to config.json_path when set.
/// Fails only when a run cannot start (bad option); a run with no client counts as a run.
Result<int> run_compare(const BenchConfig& config, const CompareOptions& options, std::FILE* out);

}  // namespace sb::bench
