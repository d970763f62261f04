#include "common/metrics.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>

namespace sb::metrics {
namespace {

thread_local int t_slot = 0;

struct Registry {
  std::mutex mu;
  std::vector<const Metric*> all;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string bare_name(const std::string& n) {
  return n.substr(0, n.find('{'));
}

}  // namespace

void set_thread_slot(int slot) {
  t_slot = (slot >= 0 && slot < kMaxSlots) ? slot : 0;
}
int thread_slot() {
  return t_slot;
}

Metric::Metric(std::string name, std::string help, Kind kind)
    : name_(std::move(name)), help_(std::move(help)), kind_(kind) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.all.push_back(this);
}

int64_t Metric::value() const {
  int64_t sum = 0;
  for (const auto& s : slots_)
    sum += s.v.load(std::memory_order_relaxed);
  return sum;
}

std::string render_prometheus() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::string out;
  std::set<std::string> described;
  // Samples of one family must be contiguous under one HELP/TYPE: group by bare name.
  std::vector<const Metric*> sorted = r.all;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Metric* a, const Metric* b) {
    return bare_name(a->name()) < bare_name(b->name());
  });
  for (const Metric* m : sorted) {
    std::string base = bare_name(m->name());
    if (described.insert(base).second) {
      out += "# HELP " + base + " " + m->help() + "\n";
      out += "# TYPE " + base + (m->kind() == Metric::Kind::kCounter ? " counter\n" : " gauge\n");
    }
    out += m->name() + " " + std::to_string(m->value()) + "\n";
  }
  return out;
}

int64_t value_of(const std::string& name) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  for (const Metric* m : r.all) {
    if (m->name() == name) return m->value();
  }
  return -1;
}

}  // namespace sb::metrics
