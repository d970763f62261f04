#include "bench/stamped_worker.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "bench/cluster_layout.h"
#include "bench/stamp.h"
#include "net/loop.h"

namespace sb::bench {
namespace {

class StampedMessageWorker final : public ScenarioWorker {
 public:
  StampedMessageWorker(WorkerEnv env, bool everyone_sends)
      : env_(env),
        everyone_sends_(everyone_sends),
        window_size_(std::max<uint32_t>(env.config.window, 1)),
        scratch_(env.config.size) {
    const uint32_t total = everyone_sends ? env.config.clients : env.config.senders;
    total_senders_ = std::max<uint32_t>(total, 1);
    if (env.config.scenario == "cluster") {
      cluster_targets_ = static_cast<uint32_t>(1 + env.config.more_targets.size());
      // One slot per (client of this loop, sender): bounded by clients / loops × senders.
      const auto loops = static_cast<uint32_t>(std::max(env.loop_count, 1));
      last_seq_.assign(size_t{env.config.clients / loops + 1} * env.config.senders, 0);
    }
  }

  void on_open(BenchClient& c) override {
    if (!is_sender(c.id())) return;
    slot_of_[c.id()] = senders_.size();
    senders_.push_back(Sender{&c, 0, 0});
    if (started_ && closed_loop()) fill(senders_.back(), monotonic_ns());
  }

  void on_closed(BenchClient& c) override {
    auto it = slot_of_.find(c.id());
    if (it == slot_of_.end()) return;
    senders_[it->second].client = nullptr;  // slots stay put: a sender is never re-added
    slot_of_.erase(it);
  }

  void on_message(BenchClient& c, std::span<const uint8_t> payload) override {
    const auto stamp = read_stamp(payload);
    if (!stamp) {
      ++env_.stats.foreign;
      return;
    }
    const uint64_t now = monotonic_ns();
    // Arrival: the kernel's receive time when the loop has it (BenchConfig::rx_stamps), else now.
    const uint64_t rx = env_.loop.rx_time_ns();
    const bool kernel_time = rx != 0 && rx >= stamp->send_ns;
    const uint64_t arrived = kernel_time ? rx : now;
    ++env_.stats.delivered;
    const bool in_window = stamp->send_ns >= window_.start && stamp->send_ns < window_.end;
    if (in_window) {
      ++env_.stats.delivered_in_window;
      if (!kernel_time) ++env_.stats.read_timed;
      env_.stats.latency.record(arrived - stamp->send_ns);
    }
    if (cluster_targets_ > 0) track_cluster(c.id(), *stamp, in_window, arrived);
    if (!closed_loop() || stamp->sender != c.id()) return;
    auto it = slot_of_.find(c.id());
    if (it == slot_of_.end()) return;
    Sender& s = senders_[it->second];
    // With one message in flight its seq is known exactly; with a window, any own message that
    // is still outstanding frees a slot.
    if (s.outstanding == 0 || (window_size_ == 1 && stamp->seq != s.seq)) {
      ++env_.stats.stale_own;
      return;
    }
    --s.outstanding;
    // The next message goes out at the end of this turn, after the rest of the turn's receipts
    // are read: stamped then (send_freed), that wait is not counted as the target's latency.
    freed_.push_back(it->second);
    if (freed_.size() == 1) env_.loop.defer([this] { send_freed(); });
  }

  void start(const Window& w) override {
    window_ = w;
    started_ = true;
    pace_origin_ = w.send_from;
    if (closed_loop()) {
      const uint64_t now = monotonic_ns();
      for (Sender& s : senders_) {
        if (s.client != nullptr) fill(s, now);
      }
    }
  }

  void tick(uint64_t now) override {
    if (!started_ || closed_loop() || senders_.empty() || now >= window_.end) return;
    // This loop's share of the total rate, in proportion to the senders it holds.
    const double loop_rate = env_.config.rate * static_cast<double>(senders_.size()) /
                             static_cast<double>(total_senders_);
    const auto due =
        static_cast<uint64_t>(loop_rate * static_cast<double>(now - pace_origin_) / 1e9);
    for (size_t tries = 0; paced_sent_ < due && tries < senders_.size() * 2;) {
      Sender& s = senders_[next_sender_++ % senders_.size()];
      if (s.client == nullptr) {
        ++tries;
        continue;
      }
      send(s, monotonic_ns());
      ++paced_sent_;
      tries = 0;
    }
  }

 private:
  struct Sender {
    BenchClient* client;
    uint64_t seq;
    uint32_t outstanding;  // closed loop: messages out and not yet back
  };

  bool closed_loop() const { return env_.config.rate <= 0; }

  // Local vs remote latency, and the per-(receiver, sender) sequence check: a sender's messages
  // reach each receiver in order through one node (and one Redis channel), so any seq that is
  // not above the last one seen is a duplicate (or a reordering), and a jump is a gap.
  void track_cluster(uint32_t receiver, const Stamp& st, bool in_window, uint64_t arrived) {
    if (in_window) {
      const bool local = cluster_target_of(receiver, env_.config.senders, cluster_targets_) == 0;
      (local ? env_.stats.latency_local : env_.stats.latency_remote).record(arrived - st.send_ns);
    }
    const size_t row = receiver / static_cast<uint32_t>(std::max(env_.loop_count, 1));
    const size_t slot = row * env_.config.senders + st.sender;
    if (st.sender >= env_.config.senders || slot >= last_seq_.size()) return;
    uint64_t& last = last_seq_[slot];
    if (st.seq <= last) {
      ++env_.stats.duplicates;
      return;
    }
    if (st.seq > last + 1) env_.stats.gaps += st.seq - last - 1;
    last = st.seq;
  }
  bool is_sender(uint32_t id) const { return everyone_sends_ || id < env_.config.senders; }

  void send_freed() {
    const uint64_t now = monotonic_ns();
    for (size_t slot : freed_) {
      Sender& s = senders_[slot];
      if (s.client != nullptr && now < window_.end) send(s, now);
    }
    freed_.clear();
  }

  void fill(Sender& s, uint64_t now) {
    while (s.client != nullptr && s.outstanding < window_size_)
      send(s, now);
  }

  void send(Sender& s, uint64_t now) {
    ++s.seq;
    ++s.outstanding;
    write_stamp(scratch_, Stamp{now, s.seq, s.client->id()});
    s.client->send_message(scratch_, env_.config.binary);
    ++env_.stats.sent;
    if (now >= window_.start && now < window_.end) ++env_.stats.sent_in_window;
  }

  WorkerEnv env_;
  bool everyone_sends_;
  uint32_t window_size_;
  uint32_t total_senders_ = 1;
  std::vector<uint8_t> scratch_;
  std::vector<Sender> senders_;
  std::unordered_map<uint32_t, size_t> slot_of_;  // client id → senders_ index
  std::vector<size_t> freed_;  // closed loop: senders to send again at the end of this turn
  Window window_;
  bool started_ = false;
  uint64_t pace_origin_ = 0;
  uint64_t paced_sent_ = 0;
  size_t next_sender_ = 0;
  uint32_t cluster_targets_ = 0;    // cluster scenario: number of nodes (0: not cluster)
  std::vector<uint64_t> last_seq_;  // cluster: [client row × senders + sender] → last seq
};

class IdleWorker final : public ScenarioWorker {
 public:
  void on_open(BenchClient& /*c*/) override {}
  void on_message(BenchClient& /*c*/, std::span<const uint8_t> /*payload*/) override {}
  void on_closed(BenchClient& /*c*/) override {}
  void start(const Window& /*w*/) override {}
  void tick(uint64_t /*now_ns*/) override {}
};

}  // namespace

std::unique_ptr<ScenarioWorker> make_stamped_worker(WorkerEnv env, bool everyone_sends) {
  return std::make_unique<StampedMessageWorker>(env, everyone_sends);
}

std::unique_ptr<ScenarioWorker> make_idle_worker() {
  return std::make_unique<IdleWorker>();
}

}  // namespace sb::bench
