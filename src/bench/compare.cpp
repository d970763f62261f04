#include "bench/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include "bench/report.h"
#include "bench/runner.h"

namespace sb::bench {
namespace {

struct Run {
  int side = 0;  // 0 = A (--target), 1 = B (--compare)
  RunResult result;
  Figures figures;
};

struct Metric {
  const char* name;
  std::function<double(const Run&)> get;
};

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<Metric> metrics_for(const RunResult& r) {
  const std::string unit = r.unit;
  std::vector<Metric> m;
  m.push_back({"connections/s", [](const Run& x) { return x.figures.connect_rate; }});
  if (r.config.scenario == "connect" || r.config.steps > 1) {
    m.push_back({"target bytes per connection",
                 [](const Run& x) { return x.figures.bytes_per_connection; }});
    m.push_back({"target cpu-s connecting", [](const Run& x) { return x.figures.connect_cpu_s; }});
    return m;
  }
  m.push_back({"messages/s", [](const Run& x) { return x.figures.sent_per_s; }});
  m.push_back({"delivered/s", [](const Run& x) { return x.figures.delivered_per_s; }});
  m.push_back(
      {"delivered per target cpu-s", [](const Run& x) { return x.figures.delivered_per_cpu_s; }});
  m.push_back({"target cpu %", [](const Run& x) { return x.figures.target_cpu_pct; }});
  m.push_back({"latency p50 ms", [](const Run& x) {
                 return static_cast<double>(x.result.totals.latency.percentile(50)) / 1e6;
               }});
  m.push_back({"latency p99 ms", [](const Run& x) {
                 return static_cast<double>(x.result.totals.latency.percentile(99)) / 1e6;
               }});
  m.push_back({"lost", [](const Run& x) { return static_cast<double>(x.figures.lost); }});
  return m;
}

}  // namespace

Result<int> run_compare(const BenchConfig& config, const CompareOptions& options, std::FILE* out) {
  if (options.repetitions < 1 || options.repetitions > 50) {
    return Error{Errc::kInvalidArgument, "--reps must be 1..50"};
  }
  std::vector<Run> runs;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    for (int k = 0; k < 2; ++k) {
      const int side = rep % 2 == 0 ? k : 1 - k;  // A B, B A, A B, ...
      BenchConfig c = config;
      c.json_path.clear();
      if (side == 1) {
        c.target = options.target_b;
        c.pids = options.pids_b;
      }
      auto r = run_bench(c);
      if (!r) return r.error();
      Run run{side, std::move(r.value()), {}};
      run.figures = compute_figures(run.result);
      fmt::print(out, "\n-- repetition {} of {}, target {}", rep + 1, options.repetitions,
                 side == 0 ? "A" : "B");
      print_summary(out, run.result, run.figures);
      std::fflush(out);
      runs.push_back(std::move(run));
    }
  }

  const std::vector<Metric> metrics = metrics_for(runs.front().result);
  fmt::print(out, "\n== {}: A = {}  vs  B = {} ({} repetitions each, alternating)\n",
             config.scenario, config.target, options.target_b, options.repetitions);
  fmt::print(out, "{:<28} {:>30} {:>30} {:>8}\n", "median (min–max)", "A", "B", "A/B");
  std::string json_medians;
  for (const Metric& m : metrics) {
    std::vector<double> v[2];
    for (const Run& r : runs)
      v[r.side].push_back(m.get(r));
    const double med[2] = {median(v[0]), median(v[1])};
    auto cell = [](const std::vector<double>& xs, double md) {
      const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
      auto num = [](double x) {
        return std::fabs(x) >= 1000 ? fmt::format("{:.0f}", x) : fmt::format("{:.3g}", x);
      };
      return fmt::format("{} ({}–{})", num(md), num(*lo), num(*hi));
    };
    const double ratio = med[1] != 0 ? med[0] / med[1] : NAN;
    fmt::print(out, "{:<28} {:>30} {:>30} {:>8.3g}\n", m.name, cell(v[0], med[0]),
               cell(v[1], med[1]), ratio);
    json_medians +=
        fmt::format("{}\"{}\": {{\"a\": {}, \"b\": {}, \"ratio\": {}}}",
                    json_medians.empty() ? "" : ", ", m.name, std::isfinite(med[0]) ? med[0] : 0,
                    std::isfinite(med[1]) ? med[1] : 0, std::isfinite(ratio) ? ratio : 0);
  }
  if (!config.json_path.empty()) {
    std::string s =
        fmt::format("{{\"a\": \"{}\", \"b\": \"{}\", \"medians\": {{{}}}, \"runs\": [\n",
                    config.target, options.target_b, json_medians);
    for (size_t i = 0; i < runs.size(); ++i) {
      s += fmt::format("{{\"side\": \"{}\", \"result\": {}}}{}\n", runs[i].side == 0 ? "a" : "b",
                       to_json(runs[i].result, runs[i].figures), i + 1 < runs.size() ? "," : "");
    }
    s += "]}\n";
    std::ofstream f(config.json_path);
    f << s;
    if (!f) return Error{Errc::kIo, "cannot write the --json file"};
  }
  bool all_connected = true;
  for (const Run& r : runs)
    all_connected = all_connected && r.result.connected > 0;
  return all_connected ? 0 : 1;
}

}  // namespace sb::bench
