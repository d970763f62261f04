#include "bench/load_loop.h"

#include <algorithm>
#include <string>

#include "bench/stamp.h"

namespace sb::bench {
namespace {

constexpr uint64_t kTickMs = 10;

net::LoopOptions client_loop_options(const BenchConfig& config) {
  net::LoopOptions o;
  o.rx_timestamps = config.rx_stamps;
  // A paced sender may run ahead of a slow server: allow a deep queue before giving up.
  o.max_outbound_bytes = 64 << 20;
  o.high_watermark = 32 << 20;
  o.low_watermark = 8 << 20;
  o.max_connections = UINT32_MAX;
  o.linger_ms = 1000;
  return o;
}

}  // namespace

LoadLoop::LoadLoop(int index, int count, const BenchConfig& config, const Scenario& scenario,
                   ClientFactory& factory, const std::vector<sockaddr_in>& sources)
    : index_(index),
      count_(count),
      config_(config),
      factory_(factory),
      sources_(sources),
      loop_(index, client_loop_options(config), nullptr) {
  worker_ = scenario.make_worker(WorkerEnv{config_, stats_, index_, count_, loop_});
  const auto idx = static_cast<uint32_t>(index);
  const auto cnt = static_cast<uint32_t>(count);
  my_clients_ = config.clients > idx ? (config.clients - idx + cnt - 1) / cnt : 0;
  max_in_flight_ = std::max<uint32_t>(1, config.connect_concurrency / cnt);
}

LoadLoop::~LoadLoop() {
  join();
}

void LoadLoop::start(uint64_t connect_deadline_ns, uint32_t cap) {
  connect_deadline_ns_ = connect_deadline_ns;
  loop_.post([this, cap] {
    loop_.timers().arm(tick_timer_, kTickMs, [this] { on_tick(); });
    apply_cap(cap);
  });
  thread_ = std::thread([this] { loop_.run(); });
}

void LoadLoop::set_cap(uint32_t cap) {
  loop_.post([this, cap] { apply_cap(cap); });
}

void LoadLoop::apply_cap(uint32_t cap) {
  const auto idx = static_cast<uint32_t>(index_);
  const auto cnt = static_cast<uint32_t>(count_);
  cap_ = std::min(cap, config_.clients);
  local_cap_ = std::min(my_clients_, cap_ > idx ? (cap_ - idx + cnt - 1) / cnt : 0);
  connect_more();
}

void LoadLoop::start_sending(const Window& w) {
  loop_.post([this, w] { worker_->start(w); });
}

void LoadLoop::shutdown(uint32_t timeout_ms) {
  loop_.post([this] {
    stopping_ = true;
    tick_timer_.cancel();
    publish();
  });
  loop_.begin_shutdown(timeout_ms);
}

void LoadLoop::join() {
  if (thread_.joinable()) thread_.join();
}

LoopProgress LoadLoop::progress() const {
  LoopProgress p;
  p.connected = pub_.connected.load(std::memory_order_relaxed);
  p.failed = pub_.failed.load(std::memory_order_relaxed);
  p.sent = pub_.sent.load(std::memory_order_relaxed);
  p.delivered = pub_.delivered.load(std::memory_order_relaxed);
  p.sent_in_window = pub_.sent_in_window.load(std::memory_order_relaxed);
  p.delivered_in_window = pub_.delivered_in_window.load(std::memory_order_relaxed);
  p.last_open_ns = pub_.last_open_ns.load(std::memory_order_relaxed);
  p.settled_for = pub_.settled_for.load(std::memory_order_acquire);
  p.connect_done = pub_.connect_done.load(std::memory_order_acquire);
  return p;
}

void LoadLoop::publish() {
  pub_.connected.store(open_now_, std::memory_order_relaxed);
  pub_.failed.store(stats_.connect_failed, std::memory_order_relaxed);
  pub_.sent.store(stats_.sent, std::memory_order_relaxed);
  pub_.delivered.store(stats_.delivered, std::memory_order_relaxed);
  pub_.sent_in_window.store(stats_.sent_in_window, std::memory_order_relaxed);
  pub_.delivered_in_window.store(stats_.delivered_in_window, std::memory_order_relaxed);
  pub_.last_open_ns.store(last_open_ns_, std::memory_order_relaxed);
  pub_.connect_done.store(connect_done_, std::memory_order_release);
}

void LoadLoop::on_tick() {
  // Timers fire at the start of a turn, before its events: a message paced from here would be
  // stamped now but written only at the end of the turn, after up to a thousand receipts are
  // read, and that wait would count as the target's latency. Deferred work runs at the end of
  // the turn, right before the writes.
  loop_.defer([this] { worker_->tick(monotonic_ns()); });
  const bool past_deadline = monotonic_ns() >= connect_deadline_ns_;
  if (in_flight_ == 0 && (next_ >= local_cap_ || past_deadline)) {
    // Published after the counters (release): whoever sees the step settled sees its counts.
    if (!connect_done_ && (next_ >= my_clients_ || past_deadline)) connect_done_ = true;
    publish();
    pub_.settled_for.store(cap_, std::memory_order_release);
  } else {
    publish();
  }
  loop_.timers().arm(tick_timer_, kTickMs, [this] { on_tick(); });
}

// Keeps at most max_in_flight_ connections between connect() and the end of the handshake, so
// the target's accept queue and SYN backlog are not flooded; stops starting new ones at the
// connect deadline (each started one is bounded by the handshake timeout).
void LoadLoop::connect_more() {
  connect_scheduled_ = false;
  if (stopping_) return;
  const uint64_t now = monotonic_ns();
  while (in_flight_ < max_in_flight_ && next_ < local_cap_ && now < connect_deadline_ns_) {
    const uint32_t id = static_cast<uint32_t>(index_) + next_ * static_cast<uint32_t>(count_);
    ++next_;
    const sockaddr_in& src = sources_[id % sources_.size()];
    auto r = factory_.connect(loop_, src, id, *this);
    if (!r) {
      ++stats_.connect_failed;
      ++stats_.failures[std::string(r.error().reason)];
      continue;
    }
    ++in_flight_;
  }
}

void LoadLoop::schedule_connect_more() {
  if (connect_scheduled_ || next_ >= local_cap_) return;
  connect_scheduled_ = true;
  loop_.defer([this] { connect_more(); });
}

void LoadLoop::on_open(BenchClient& c) {
  --in_flight_;
  ++open_now_;
  ++stats_.connected;
  last_open_ns_ = monotonic_ns();
  worker_->on_open(c);
  schedule_connect_more();
}

void LoadLoop::on_message(BenchClient& c, std::span<const uint8_t> payload) {
  worker_->on_message(c, payload);
}

void LoadLoop::on_closed(BenchClient& c, bool was_open, std::string_view why) {
  if (!was_open) {
    --in_flight_;
    if (!stopping_) {
      ++stats_.connect_failed;
      ++stats_.failures[std::string(why)];
    }
    schedule_connect_more();
    return;
  }
  --open_now_;
  worker_->on_closed(c);
  if (!stopping_) {
    ++stats_.closed_early;
    ++stats_.failures[std::string(why)];
  }
}

}  // namespace sb::bench
