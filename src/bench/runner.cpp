#include "bench/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "bench/load_loop.h"
#include "bench/scenario.h"
#include "bench/stamp.h"
#include "bench/target.h"

namespace sb::bench {
namespace {

constexpr uint64_t kNsPerSec = 1000000000ULL;

uint64_t seconds_ns(double s) {
  return static_cast<uint64_t>(s * 1e9);
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void sleep_until_ns(uint64_t t) {
  const uint64_t now = monotonic_ns();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

class Runner {
 public:
  Runner(const BenchConfig& cfg, const Scenario& sc, ClientFactory& f,
         const std::vector<sockaddr_in>& sources)
      : cfg_(cfg), scenario_(sc) {
    for (int i = 0; i < cfg.threads; ++i) {
      loops_.push_back(std::make_unique<LoadLoop>(i, cfg.threads, cfg, sc, f, sources));
    }
    for (int pid : cfg.pids)
      result_.pids.push_back(PidSamples{pid, {}, {}, {}, {}});
  }

  RunResult run() {
    result_.config = cfg_;
    result_.scenario = std::string(scenario_.name());
    result_.unit = std::string(scenario_.unit());
    for (auto& p : result_.pids)
      p.before_connect = sample_process(p.pid);

    // 1. Connect, in --steps equal steps (one unless asked), sampling the targets after each.
    const uint64_t t0 = monotonic_ns();
    const uint64_t deadline = t0 + seconds_ns(cfg_.connect_timeout_s);
    // Hard stop: the deadline plus one handshake timeout plus slack.
    const uint64_t hard = deadline + uint64_t{cfg_.handshake_timeout_ms} * 1000000 + 5 * kNsPerSec;
    const uint32_t steps = std::max<uint32_t>(cfg_.steps, 1);
    uint64_t next_line = t0 + kNsPerSec;
    for (uint32_t k = 1; k <= steps; ++k) {
      const auto cap = static_cast<uint32_t>(uint64_t{cfg_.clients} * k / steps);
      const uint64_t step_start = monotonic_ns();
      for (auto& l : loops_) {
        if (k == 1) {
          l->start(deadline, cap);
        } else {
          l->set_cap(cap);
        }
      }
      Totals t;
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        t = totals();
        const uint64_t now = monotonic_ns();
        if (t.settled_for_all(cap) || now >= hard) break;
        if (now >= next_line) {
          progress_line("connect", now - t0, t);
          next_line += kNsPerSec;
        }
      }
      ConnectStep st;
      st.target = cap;
      st.connected = t.p.connected;
      st.failed = t.p.failed;
      if (t.p.last_open_ns > step_start) {
        st.seconds = static_cast<double>(t.p.last_open_ns - step_start) / 1e9;
      }
      if (steps > 1 && cfg_.settle_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg_.settle_ms));
      }
      for (auto& p : result_.pids)
        st.pids.push_back(sample_process(p.pid));
      result_.connect_busy_seconds += st.seconds;
      if (steps > 1 && cfg_.progress) {
        std::fprintf(stderr, "step %u/%u: %llu connected (%llu failed) in %.2f s\n", k, steps,
                     static_cast<unsigned long long>(st.connected),
                     static_cast<unsigned long long>(st.failed), st.seconds);
      }
      result_.steps.push_back(std::move(st));
      if (monotonic_ns() >= hard) break;
    }
    const uint64_t t_connected = monotonic_ns();
    result_.connect_seconds = static_cast<double>(t_connected - t0) / 1e9;
    for (auto& p : result_.pids)
      p.connected = sample_process(p.pid);
    const Totals after_connect = totals();
    result_.connected = after_connect.p.connected;
    result_.senders = scenario_.sender_count(result_.connected);
    if (cfg_.progress) {
      std::fprintf(stderr, "connected %llu/%u clients in %.1f s (%llu failed)\n",
                   static_cast<unsigned long long>(result_.connected), cfg_.clients,
                   result_.connect_seconds,
                   static_cast<unsigned long long>(after_connect.p.failed));
    }

    // 2. Warm up and measure.
    Window w;
    w.send_from = monotonic_ns();
    w.start = w.send_from + seconds_ns(cfg_.warmup_s);
    w.end = w.start + seconds_ns(cfg_.duration_s);
    if (result_.connected > 0 && scenario_.sends_messages()) {
      for (auto& l : loops_)
        l->start_sending(w);
      last_ = totals();
      last_ns_ = w.send_from;
      next_line = w.send_from + kNsPerSec;
      bool window_started = false;
      while (monotonic_ns() < w.end) {
        const uint64_t wake = std::min({next_line, window_started ? w.end : w.start, w.end});
        sleep_until_ns(wake);
        const uint64_t now = monotonic_ns();
        if (!window_started && now >= w.start) {
          window_started = true;
          result_.self_window_start = sample_self();
          for (auto& p : result_.pids)
            p.window_start = sample_process(p.pid);
        }
        if (now >= next_line) {
          progress_line(now < w.start ? "warmup" : "measure", now - w.send_from, totals());
          next_line += kNsPerSec;
        }
      }
      result_.self_window_end = sample_self();
      for (auto& p : result_.pids)
        p.window_end = sample_process(p.pid);
      result_.window_seconds = static_cast<double>(monotonic_ns() - w.start) / 1e9;

      // 3. Drain: messages sent inside the window may still be on their way.
      const uint64_t drain_end = monotonic_ns() + seconds_ns(cfg_.drain_s);
      while (monotonic_ns() < drain_end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const Totals t = totals();
        if (t.p.delivered_in_window >=
            t.p.sent_in_window * scenario_.receivers_per_message(result_.connected)) {
          break;
        }
      }
    }

    // 4. Close every client (close frame, then TCP), join, merge.
    for (auto& l : loops_)
      l->shutdown(3000);
    for (auto& l : loops_)
      l->join();
    for (auto& l : loops_)
      result_.totals.merge(l->stats());
    result_.expected =
        result_.totals.sent_in_window * scenario_.receivers_per_message(result_.connected);
    return result_;
  }

 private:
  struct Totals {
    LoopProgress p;
    uint32_t min_settled_for = UINT32_MAX;
    bool settled_for_all(uint32_t cap) const { return min_settled_for == cap; }
  };

  Totals totals() const {
    Totals t;
    for (const auto& l : loops_) {
      const LoopProgress p = l->progress();
      t.p.connected += p.connected;
      t.p.failed += p.failed;
      t.p.sent += p.sent;
      t.p.delivered += p.delivered;
      t.p.sent_in_window += p.sent_in_window;
      t.p.delivered_in_window += p.delivered_in_window;
      t.p.last_open_ns = std::max(t.p.last_open_ns, p.last_open_ns);
      t.min_settled_for = std::min(t.min_settled_for, p.settled_for);
    }
    return t;
  }

  void progress_line(const char* phase, uint64_t elapsed_ns, const Totals& t) {
    if (!cfg_.progress) return;
    const uint64_t now = monotonic_ns();
    const double dt = static_cast<double>(now - last_ns_) / 1e9;
    const double sent_rate = dt > 0 ? static_cast<double>(t.p.sent - last_.p.sent) / dt : 0;
    const double deliv_rate =
        dt > 0 ? static_cast<double>(t.p.delivered - last_.p.delivered) / dt : 0;
    std::string cpu;
    for (auto& p : result_.pids) {
      const ProcSample s = sample_process(p.pid);
      auto it = last_cpu_.find(p.pid);
      if (s.ok && it != last_cpu_.end() && dt > 0) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "  pid %d cpu %.0f%%", p.pid,
                      (s.cpu_seconds - it->second) / dt * 100);
        cpu += buf;
      }
      last_cpu_[p.pid] = s.cpu_seconds;
    }
    std::fprintf(stderr, "[%-7s %5.1fs] clients %llu (failed %llu)  sent %.0f/s  %s %.0f/s%s\n",
                 phase, static_cast<double>(elapsed_ns) / 1e9,
                 static_cast<unsigned long long>(t.p.connected),
                 static_cast<unsigned long long>(t.p.failed), sent_rate, result_.unit.c_str(),
                 deliv_rate, cpu.c_str());
    last_ = t;
    last_ns_ = now;
  }

  const BenchConfig& cfg_;
  const Scenario& scenario_;
  std::vector<std::unique_ptr<LoadLoop>> loops_;
  RunResult result_;
  Totals last_;
  uint64_t last_ns_ = monotonic_ns();
  std::map<int, double> last_cpu_;
};

}  // namespace

Result<RunResult> run_bench(const BenchConfig& config) {
  if (config.size < kStampSize)
    return Error{Errc::kInvalidArgument, "--size must be >= 40 (the stamp)"};
  if (config.threads < 1) return Error{Errc::kInvalidArgument, "--threads must be >= 1"};
  if (config.clients == 0) return Error{Errc::kInvalidArgument, "--clients must be >= 1"};
  auto scenario = make_scenario(config.scenario, config);
  if (!scenario) {
    return Error{Errc::kInvalidArgument,
                 "unknown scenario (connect, fanout, cluster, echo, polling, raw-chat, raw-echo)"};
  }
  auto sources = parse_sources(config.source_ips);
  if (!sources) return sources.error();
  auto factory = make_client_factory(*scenario, config);
  if (!factory) return factory.error();
  raise_fd_limit();
  Runner runner(config, *scenario, *factory.value(), sources.value());
  return runner.run();
}

}  // namespace sb::bench
