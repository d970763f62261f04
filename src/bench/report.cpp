#include "bench/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace sb::bench {
namespace {

constexpr double kPercentiles[] = {50, 90, 99, 99.9};

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}
double mib(uint64_t b) {
  return static_cast<double>(b) / (1024.0 * 1024.0);
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Figures compute_figures(const RunResult& r) {
  Figures f;
  const LoopStats& t = r.totals;
  if (r.window_seconds > 0) {
    f.sent_per_s = static_cast<double>(t.sent_in_window) / r.window_seconds;
    f.delivered_per_s = static_cast<double>(t.delivered_in_window) / r.window_seconds;
  }
  f.lost = r.expected > t.delivered_in_window ? r.expected - t.delivered_in_window : 0;
  f.loss_pct =
      r.expected ? 100.0 * static_cast<double>(f.lost) / static_cast<double>(r.expected) : 0;
  for (const PidSamples& p : r.pids) {
    if (p.window_start.ok && p.window_end.ok) {
      f.target_cpu_s += p.window_end.cpu_seconds - p.window_start.cpu_seconds;
    }
    f.target_rss_before += p.before_connect.rss_bytes;
    f.target_rss_connected += p.connected.rss_bytes;
    f.target_rss_end += p.window_end.ok ? p.window_end.rss_bytes : p.connected.rss_bytes;
  }
  if (r.window_seconds > 0) f.target_cpu_pct = 100.0 * f.target_cpu_s / r.window_seconds;
  if (f.target_cpu_s > 0)
    f.delivered_per_cpu_s = static_cast<double>(t.delivered_in_window) / f.target_cpu_s;
  if (r.self_window_start.ok && r.self_window_end.ok) {
    f.self_cpu_s = r.self_window_end.cpu_seconds - r.self_window_start.cpu_seconds;
    if (r.window_seconds > 0) f.self_cpu_pct = 100.0 * f.self_cpu_s / r.window_seconds;
  }
  if (r.connected > 0 && f.target_rss_connected > f.target_rss_before) {
    f.bytes_per_connection = static_cast<double>(f.target_rss_connected - f.target_rss_before) /
                             static_cast<double>(r.connected);
  }
  if (r.connect_busy_seconds > 0) {
    f.connect_rate = static_cast<double>(r.connected) / r.connect_busy_seconds;
  }
  if (!r.steps.empty()) {
    const ConnectStep& last = r.steps.back();
    for (size_t i = 0; i < r.pids.size() && i < last.pids.size(); ++i) {
      if (r.pids[i].before_connect.ok && last.pids[i].ok) {
        f.connect_cpu_s += last.pids[i].cpu_seconds - r.pids[i].before_connect.cpu_seconds;
      }
    }
  }
  return f;
}

namespace {

uint64_t rss_sum(const std::vector<ProcSample>& v) {
  uint64_t sum = 0;
  for (const ProcSample& p : v)
    sum += p.rss_bytes;
  return sum;
}

// Target memory per connection after a step: growth since before the first connect.
double step_bytes_per_connection(const RunResult& r, const ConnectStep& s) {
  uint64_t before = 0;
  for (const PidSamples& p : r.pids)
    before += p.before_connect.rss_bytes;
  const uint64_t now = rss_sum(s.pids);
  if (s.connected == 0 || now <= before) return 0;
  return static_cast<double>(now - before) / static_cast<double>(s.connected);
}

double per_s(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

// cluster: the deliveries by the receiver's node, and the exactly-once check.
void print_cluster(std::FILE* out, const RunResult& r) {
  const LoopStats& t = r.totals;
  const std::pair<const char*, const Histogram*> parts[] = {{"local", &t.latency_local},
                                                            {"remote", &t.latency_remote}};
  for (const auto& [name, h] : parts) {
    fmt::print(out,
               "{:<12} {} deliveries ({:.0f}/s); latency ms p50 {:.3f}  p99 {:.3f}  max {:.3f}\n",
               name, h->count(), per_s(h->count(), r.window_seconds), ms(h->percentile(50)),
               ms(h->percentile(99)), ms(h->max()));
  }
  fmt::print(out, "exactly-once {} duplicated or reordered, {} skipped ({} nodes)\n", t.duplicates,
             t.gaps, 1 + r.config.more_targets.size());
}

std::string cluster_json(const RunResult& r) {
  const LoopStats& t = r.totals;
  std::string s = fmt::format("  \"nodes\": {},\n", 1 + r.config.more_targets.size());
  const std::pair<const char*, const Histogram*> parts[] = {{"local", &t.latency_local},
                                                            {"remote", &t.latency_remote}};
  for (const auto& [name, h] : parts) {
    s += fmt::format(
        "  \"{}\": {{\"deliveries\": {}, \"deliveries_per_s\": {:.1f}, \"latency_ms\": "
        "{{\"p50\": {:.4f}, \"p90\": {:.4f}, \"p99\": {:.4f}, \"max\": {:.4f}, \"mean\": "
        "{:.4f}}}}},\n",
        name, h->count(), per_s(h->count(), r.window_seconds), ms(h->percentile(50)),
        ms(h->percentile(90)), ms(h->percentile(99)), ms(h->max()), h->mean() / 1e6);
  }
  s += fmt::format("  \"duplicates\": {},\n  \"gaps\": {},\n", t.duplicates, t.gaps);
  return s;
}

}  // namespace

void print_summary(std::FILE* out, const RunResult& r, const Figures& f) {
  const BenchConfig& c = r.config;
  const LoopStats& t = r.totals;
  std::string mode = c.rate > 0 ? fmt::format("fixed rate {:.0f} msg/s", c.rate) : "closed loop";
  fmt::print(out, "\n== {} → {}\n", r.scenario, c.target);
  if (r.steps.size() > 1 && r.window_seconds <= 0) {
    fmt::print(out, "config       {} clients in {} steps, {} generator thread(s)\n", c.clients,
               r.steps.size(), c.threads);
  } else {
    fmt::print(out,
               "config       {} clients, {} senders, {}{}, {} B {} messages, {:g} s (+{:g} s "
               "warm-up), {} generator thread(s){}\n",
               c.clients, r.senders, mode,
               c.rate <= 0 && c.window > 1 ? fmt::format(" (window {})", c.window) : "", c.size,
               c.binary ? "binary" : "text", c.duration_s, c.warmup_s, c.threads,
               c.deflate ? ", permessage-deflate offered" : "");
  }
  fmt::print(out, "clients      {} connected in {:.1f} s, {} failed, {} lost during the run\n",
             r.connected, r.connect_seconds, t.connect_failed, t.closed_early);
  for (const auto& [why, n] : t.failures)
    fmt::print(out, "             {} × {}\n", n, why);
  if (f.connect_rate > 0) {
    fmt::print(out, "connect rate {:.0f} handshakes/s ({:.2f} s of connecting)", f.connect_rate,
               r.connect_busy_seconds);
    if (!r.pids.empty()) fmt::print(out, "; target cpu {:.2f} s for it", f.connect_cpu_s);
    fmt::print(out, "\n");
  }
  if (r.steps.size() > 1 || (!r.pids.empty() && r.window_seconds <= 0)) {
    for (const ConnectStep& st : r.steps) {
      fmt::print(out, "step         {} attempted, {} connected in {:.2f} s; target rss {:.1f} MiB",
                 st.target, st.connected, st.seconds, mib(rss_sum(st.pids)));
      if (!r.pids.empty())
        fmt::print(out, " = {:.0f} bytes per connection", step_bytes_per_connection(r, st));
      fmt::print(out, "\n");
    }
  }
  if (r.window_seconds <= 0) {
    if (r.connected > 0 && !r.pids.empty()) {
      fmt::print(out, "target       {:.0f} bytes per connection (rss {:.1f} → {:.1f} MiB)\n",
                 f.bytes_per_connection, mib(f.target_rss_before), mib(f.target_rss_connected));
    }
    if (r.connected == 0) fmt::print(out, "no measurement (no client connected)\n");
    return;
  }
  fmt::print(out, "messages     {} sent in the {:.2f} s window ({:.0f}/s)\n", t.sent_in_window,
             r.window_seconds, f.sent_per_s);
  fmt::print(out, "{:<12} {} received ({:.0f}/s); expected {} → lost {} ({:.4f} %)\n", r.unit,
             t.delivered_in_window, f.delivered_per_s, r.expected, f.lost, f.loss_pct);
  if (t.foreign || t.stale_own) {
    fmt::print(out, "oddities     {} unstamped messages, {} own messages with an unexpected seq\n",
               t.foreign, t.stale_own);
  }
  if (r.scenario == "cluster") print_cluster(out, r);
  const Histogram& h = t.latency;
  fmt::print(out,
             "latency ms   p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  "
             "mean {:.3f}  (n = {})\n",
             ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)),
             ms(h.percentile(99.9)), ms(h.max()), h.mean() / 1e6, h.count());
  for (const PidSamples& p : r.pids) {
    if (!p.window_end.ok) {
      fmt::print(out, "target pid {} not found at the end of the window\n", p.pid);
      continue;
    }
    fmt::print(out,
               "target pid {:<6} cpu {:.2f} s; rss {:.1f} MiB before connect, {:.1f} MiB "
               "connected, {:.1f} MiB at end\n",
               p.pid, p.window_end.cpu_seconds - p.window_start.cpu_seconds,
               mib(p.before_connect.rss_bytes), mib(p.connected.rss_bytes),
               mib(p.window_end.rss_bytes));
  }
  if (!r.pids.empty()) {
    fmt::print(out,
               "target       cpu {:.2f} s = {:.0f} % of one core; {:.0f} {} per cpu-second; "
               "{:.0f} bytes per connection\n",
               f.target_cpu_s, f.target_cpu_pct, f.delivered_per_cpu_s, r.unit,
               f.bytes_per_connection);
  }
  fmt::print(out, "generator    cpu {:.2f} s = {:.0f} % of one core\n", f.self_cpu_s,
             f.self_cpu_pct);
}

std::string to_json(const RunResult& r, const Figures& f) {
  const BenchConfig& c = r.config;
  const LoopStats& t = r.totals;
  const Histogram& h = t.latency;
  std::string s = "{\n";
  s += fmt::format("  \"scenario\": \"{}\",\n  \"target\": \"{}\",\n", json_escape(r.scenario),
                   json_escape(c.target));
  if (!c.more_targets.empty()) {
    s += "  \"more_targets\": [";
    for (size_t i = 0; i < c.more_targets.size(); ++i)
      s += fmt::format("{}\"{}\"", i ? ", " : "", json_escape(c.more_targets[i]));
    s += "],\n";
  }
  s += fmt::format(
      "  \"config\": {{\"clients\": {}, \"senders\": {}, \"rate\": {}, \"size\": {}, "
      "\"binary\": {}, \"duration_s\": {}, \"warmup_s\": {}, \"threads\": {}, \"deflate\": {}, "
      "\"source_ips\": \"{}\", \"window\": {}, \"room\": \"{}\", \"steps\": {}, "
      "\"latency_to\": \"{}\"}},\n",
      c.clients, r.senders, c.rate, c.size, c.binary, c.duration_s, c.warmup_s, c.threads,
      c.deflate, json_escape(c.source_ips), c.window, json_escape(c.room), c.steps,
      c.rx_stamps ? "kernel-receive" : "read");
  s += fmt::format(
      "  \"clients\": {{\"connected\": {}, \"failed\": {}, \"lost_during_run\": {}, "
      "\"connect_seconds\": {:.3f}, \"failures\": {{",
      r.connected, t.connect_failed, t.closed_early, r.connect_seconds);
  bool first = true;
  for (const auto& [why, n] : t.failures) {
    s += fmt::format("{}\"{}\": {}", first ? "" : ", ", json_escape(why), n);
    first = false;
  }
  s += fmt::format(
      "}}, \"connect_busy_seconds\": {:.3f}, \"connect_rate_per_s\": {:.1f}, "
      "\"connect_target_cpu_seconds\": {:.3f}}},\n",
      r.connect_busy_seconds, f.connect_rate, f.connect_cpu_s);
  s += "  \"connect_steps\": [";
  first = true;
  for (const ConnectStep& st : r.steps) {
    s += fmt::format(
        "{}{{\"attempted\": {}, \"connected\": {}, \"failed\": {}, \"seconds\": {:.3f}, "
        "\"target_rss\": {}, \"target_bytes_per_connection\": {:.0f}}}",
        first ? "" : ", ", st.target, st.connected, st.failed, st.seconds, rss_sum(st.pids),
        step_bytes_per_connection(r, st));
    first = false;
  }
  s += "],\n";
  s += fmt::format("  \"window_seconds\": {:.3f},\n  \"unit\": \"{}\",\n", r.window_seconds,
                   json_escape(r.unit));
  s += fmt::format("  \"messages_sent\": {},\n  \"messages_per_s\": {:.1f},\n", t.sent_in_window,
                   f.sent_per_s);
  s += fmt::format("  \"deliveries\": {},\n  \"deliveries_per_s\": {:.1f},\n",
                   t.delivered_in_window, f.delivered_per_s);
  s += fmt::format("  \"expected_deliveries\": {},\n  \"lost\": {},\n  \"loss_pct\": {:.6f},\n",
                   r.expected, f.lost, f.loss_pct);
  s += fmt::format("  \"unstamped\": {},\n  \"stale_own\": {},\n", t.foreign, t.stale_own);
  s += fmt::format("  \"latency_read_timed\": {},\n", t.read_timed);
  if (r.scenario == "cluster") s += cluster_json(r);
  s += "  \"latency_ms\": {";
  for (double p : kPercentiles)
    s += fmt::format("\"p{}\": {:.4f}, ", p, ms(h.percentile(p)));
  s += fmt::format("\"max\": {:.4f}, \"mean\": {:.4f}, \"count\": {}}},\n", ms(h.max()),
                   h.mean() / 1e6, h.count());
  s += "  \"targets\": [";
  first = true;
  for (const PidSamples& p : r.pids) {
    s += fmt::format(
        "{}{{\"pid\": {}, \"cpu_seconds\": {:.3f}, \"rss_before_connect\": {}, "
        "\"rss_connected\": {}, \"rss_end\": {}}}",
        first ? "" : ", ", p.pid,
        p.window_end.ok ? p.window_end.cpu_seconds - p.window_start.cpu_seconds : 0.0,
        p.before_connect.rss_bytes, p.connected.rss_bytes, p.window_end.rss_bytes);
    first = false;
  }
  s += "],\n";
  s += fmt::format("  \"target_cpu_seconds\": {:.3f},\n  \"target_cpu_pct\": {:.1f},\n",
                   f.target_cpu_s, f.target_cpu_pct);
  s += fmt::format("  \"deliveries_per_target_cpu_second\": {:.1f},\n", f.delivered_per_cpu_s);
  s += fmt::format(
      "  \"target_rss_before_connect\": {},\n  \"target_rss_connected\": {},\n"
      "  \"target_rss_end\": {},\n  \"target_bytes_per_connection\": {:.0f},\n",
      f.target_rss_before, f.target_rss_connected, f.target_rss_end, f.bytes_per_connection);
  s += fmt::format("  \"generator_cpu_seconds\": {:.3f},\n  \"generator_cpu_pct\": {:.1f}\n}}\n",
                   f.self_cpu_s, f.self_cpu_pct);
  return s;
}

}  // namespace sb::bench
