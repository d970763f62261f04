// The raw WebSocket scenarios.
//
// raw-chat: every client joins /raw/chat; `senders` of them send stamped messages; the server
// relays each to every client (sender included), so one message = `connected` deliveries.
// raw-echo: every client sends to /raw/echo and gets its own message back: one round trip each.
//
// Both are "stamped message" scenarios and share one worker: a sender either sends the next
// message as soon as its previous one came back to itself (closed loop, --rate 0), or senders
// share a fixed total rate (open loop), paced from the loop's 10 ms tick.

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "bench/scenario.h"
#include "bench/stamp.h"
#include "bench/target.h"
#include "bench/ws_client.h"

namespace sb::bench {
namespace {

class StampedMessageWorker final : public ScenarioWorker {
 public:
  StampedMessageWorker(WorkerEnv env, bool everyone_sends)
      : env_(env), everyone_sends_(everyone_sends), scratch_(env.config.size) {
    const uint32_t total = everyone_sends ? env.config.clients : env.config.senders;
    total_senders_ = std::max<uint32_t>(total, 1);
  }

  void on_open(BenchClient& c) override {
    if (!is_sender(c.id())) return;
    slot_of_[c.id()] = senders_.size();
    senders_.push_back(Sender{&c, 0, false});
    if (started_ && closed_loop()) send(senders_.back(), monotonic_ns());
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
    ++env_.stats.delivered;
    if (stamp->send_ns >= window_.start && stamp->send_ns < window_.end) {
      ++env_.stats.delivered_in_window;
      env_.stats.latency.record(now - stamp->send_ns);
    }
    if (!closed_loop() || stamp->sender != c.id()) return;
    auto it = slot_of_.find(c.id());
    if (it == slot_of_.end()) return;
    Sender& s = senders_[it->second];
    if (!s.waiting || stamp->seq != s.seq) {
      ++env_.stats.stale_own;
      return;
    }
    s.waiting = false;
    if (now < window_.end) send(s, now);
  }

  void start(const Window& w) override {
    window_ = w;
    started_ = true;
    pace_origin_ = w.send_from;
    if (closed_loop()) {
      const uint64_t now = monotonic_ns();
      for (Sender& s : senders_) {
        if (s.client != nullptr && !s.waiting) send(s, now);
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
    bool waiting;  // closed loop: a message is out and not yet back
  };

  bool closed_loop() const { return env_.config.rate <= 0; }
  bool is_sender(uint32_t id) const { return everyone_sends_ || id < env_.config.senders; }

  void send(Sender& s, uint64_t now) {
    ++s.seq;
    s.waiting = true;
    write_stamp(scratch_, Stamp{now, s.seq, s.client->id()});
    s.client->send_message(scratch_, env_.config.binary);
    ++env_.stats.sent;
    if (now >= window_.start && now < window_.end) ++env_.stats.sent_in_window;
  }

  WorkerEnv env_;
  bool everyone_sends_;
  uint32_t total_senders_ = 1;
  std::vector<uint8_t> scratch_;
  std::vector<Sender> senders_;
  std::unordered_map<uint32_t, size_t> slot_of_;  // client id → senders_ index
  Window window_;
  bool started_ = false;
  uint64_t pace_origin_ = 0;
  uint64_t paced_sent_ = 0;
  size_t next_sender_ = 0;
};

class RawChat final : public Scenario {
 public:
  explicit RawChat(const BenchConfig& c) : senders_(c.senders) {}
  std::string_view name() const override { return "raw-chat"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return std::make_unique<StampedMessageWorker>(env, false);
  }
  uint64_t receivers_per_message(uint64_t connected) const override { return connected; }
  uint64_t sender_count(uint64_t connected) const override {
    return std::min<uint64_t>(senders_, connected);
  }

 private:
  uint32_t senders_;
};

class RawEcho final : public Scenario {
 public:
  std::string_view name() const override { return "raw-echo"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return std::make_unique<StampedMessageWorker>(env, true);
  }
  uint64_t receivers_per_message(uint64_t /*connected*/) const override { return 1; }
  uint64_t sender_count(uint64_t connected) const override { return connected; }
  std::string_view unit() const override { return "round trips"; }
};

class WsClientFactory final : public ClientFactory {
 public:
  WsClientFactory(const Target& t, const BenchConfig& c) : target_(t.addr) {
    options_.host_header = t.host_header;
    options_.path = t.path;
    options_.offer_deflate = c.deflate;
    options_.handshake_timeout_ms = c.handshake_timeout_ms;
  }
  Result<BenchClient*> connect(net::Loop& loop, const sockaddr_in& source, uint32_t id,
                               ClientEvents& events) override {
    auto r = WsClient::connect(loop, source, target_, options_, events, id);
    if (!r) return r.error();
    return static_cast<BenchClient*>(r.value());
  }

 private:
  sockaddr_in target_;
  WsClientOptions options_;  // shared by every client (held by reference)
};

}  // namespace

std::unique_ptr<Scenario> make_scenario(std::string_view name, const BenchConfig& config) {
  if (name == "raw-chat") return std::make_unique<RawChat>(config);
  if (name == "raw-echo") return std::make_unique<RawEcho>();
  return nullptr;
}

Result<std::unique_ptr<ClientFactory>> make_client_factory(const Scenario& /*scenario*/,
                                                           const BenchConfig& config) {
  auto target = parse_target(config.target);
  if (!target) return target.error();
  return std::unique_ptr<ClientFactory>(std::make_unique<WsClientFactory>(target.value(), config));
}

}  // namespace sb::bench
