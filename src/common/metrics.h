#pragma once
// Counters and gauges without a shared cache line on the data path: every loop thread writes its
// own padded slot (a relaxed store by the only writer), and readers sum the slots. A metric is a
// function-local or namespace-scope static; it registers itself once and lives for the process.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace sb::metrics {

inline constexpr int kMaxSlots = 64;

/// Called once by each loop thread (slot 1..N); other threads share slot 0.
void set_thread_slot(int slot);
int thread_slot();

class Metric {
 public:
  enum class Kind : uint8_t { kCounter, kGauge };
  Metric(std::string name, std::string help, Kind kind);
  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;

  /// Adds n to this thread's slot. Counters only go up; gauges may add negative values.
  void add(int64_t n) {
    const int slot = thread_slot();
    auto& s = slots_[static_cast<size_t>(slot)].v;
    if (slot == 0) {
      s.fetch_add(n, std::memory_order_relaxed);  // shared by every non-loop thread
    } else {
      // A loop's slot has one writer: a plain load and store, no locked instruction.
      s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
  }
  int64_t value() const;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Kind kind() const { return kind_; }

 private:
  struct alignas(64) Slot {
    std::atomic<int64_t> v{0};
  };
  std::string name_;
  std::string help_;
  Kind kind_;
  std::array<Slot, kMaxSlots> slots_{};
};

class Counter : public Metric {
 public:
  Counter(std::string name, std::string help)
      : Metric(std::move(name), std::move(help), Kind::kCounter) {}
  void inc(int64_t n = 1) { add(n); }
};

class Gauge : public Metric {
 public:
  Gauge(std::string name, std::string help)
      : Metric(std::move(name), std::move(help), Kind::kGauge) {}
};

/// Prometheus text exposition of every registered metric. A name may carry labels
/// (`sb_conn_closed_total{reason="outbound_overflow"}`); HELP/TYPE use the bare name.
std::string render_prometheus();

/// Value of a metric by its full name (with labels), or -1 when not registered. For tests.
int64_t value_of(const std::string& name);

}  // namespace sb::metrics
