// The Socket.IO scenarios, against the bench app (`switchboard serve --app bench`, or
// bench/baseline/server.mjs on Node.js Socket.IO — same handlers):
//   connect with query room=NAME → joined to NAME;  b(data[, room]) → io.to(room ?? "r").emit("m",
//   data);  e(data) with an ack → ack(data).
//
// fanout:  every client joins the room; `senders` of them emit b(stamp); each broadcast reaches
//          every member (the sender too, which is what paces a closed loop): `connected`
//          deliveries per message, counted at the receivers.
// echo:    every client emits e(stamp) with an ack, `window` in flight each; one ack per emit.
// cluster: fanout over several nodes sharing an adapter (--target given once per node): the
//          senders connect to the first node, the receivers round-robin to all of them
//          (cluster_layout.h); deliveries are split into local (the sender's node) and remote
//          (through the adapter), and each (receiver, sender) sequence is checked for exactly-once.
// connect: clients connect in --steps steps and stay idle; the runner samples the target's RSS
//          after each step (memory per idle connection) and times the connecting (rate).

#include <algorithm>
#include <deque>
#include <vector>

#include "bench/cluster_layout.h"
#include "bench/scenario.h"
#include "bench/sio_client.h"
#include "bench/sio_packet.h"
#include "bench/stamped_worker.h"
#include "bench/target.h"
#include "bench/ws_client.h"

namespace sb::bench {
namespace {

// `fanout` over WebSocket, and `polling`: the same room and senders over Engine.IO
// long-polling (polling_scenario.cpp makes those clients).
class Fanout final : public Scenario {
 public:
  Fanout(const BenchConfig& c, bool polling) : senders_(c.senders), polling_(polling) {}
  std::string_view name() const override { return polling_ ? "polling" : "fanout"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return make_stamped_worker(env, false);
  }
  uint64_t receivers_per_message(uint64_t connected) const override { return connected; }
  uint64_t sender_count(uint64_t connected) const override {
    return std::min<uint64_t>(senders_, connected);
  }
  bool socketio() const override { return true; }
  bool polling() const override { return polling_; }

 private:
  uint32_t senders_;
  bool polling_;
};

class Cluster final : public Scenario {
 public:
  explicit Cluster(const BenchConfig& c) : senders_(c.senders) {}
  std::string_view name() const override { return "cluster"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return make_stamped_worker(env, false);
  }
  uint64_t receivers_per_message(uint64_t connected) const override { return connected; }
  uint64_t sender_count(uint64_t connected) const override {
    return std::min<uint64_t>(senders_, connected);
  }
  bool socketio() const override { return true; }

 private:
  uint32_t senders_;
};

class Echo final : public Scenario {
 public:
  std::string_view name() const override { return "echo"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return make_stamped_worker(env, true);
  }
  uint64_t receivers_per_message(uint64_t /*connected*/) const override { return 1; }
  uint64_t sender_count(uint64_t connected) const override { return connected; }
  std::string_view unit() const override { return "acks"; }
  bool socketio() const override { return true; }
};

class Connect final : public Scenario {
 public:
  std::string_view name() const override { return "connect"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv /*env*/) const override {
    return make_idle_worker();
  }
  uint64_t receivers_per_message(uint64_t /*connected*/) const override { return 0; }
  uint64_t sender_count(uint64_t /*connected*/) const override { return 0; }
  std::string_view unit() const override { return "connections"; }
  bool sends_messages() const override { return false; }
  bool socketio() const override { return true; }
};

class SioClientFactory final : public ClientFactory {
 public:
  SioClientFactory(const std::vector<Target>& targets, const BenchConfig& c)
      : senders_(c.senders), cluster_(c.scenario == "cluster") {
    const bool fanout = c.scenario == "fanout" || cluster_;
    for (const Target& t : targets) {
      PerTarget& p = targets_.emplace_back();
      p.addr = t.addr;
      p.ws.host_header = t.host_header;
      p.ws.path = socketio_path(t.path, fanout ? "room=" + c.room : "");
      p.ws.handshake_timeout_ms = c.handshake_timeout_ms;
      p.ws.upper_handshake = true;
    }
    sio_options_.nsp = c.nsp;
    // `event` defaults to "b" (fanout). Not assigned from a literal here: GCC 12 at -O3 sees a
    // bogus overlapping memcpy in that inlined std::string assignment (-Wrestrict, PR 105329).
    if (fanout) {
      // The bench app broadcasts to "r" when no room is given: the short form for the default.
      if (c.room != "r") sio_options_.extra_arg = c.room;
    } else {
      sio_options_.event = std::string(1, 'e');
      sio_options_.with_ack = true;
    }
  }
  Result<BenchClient*> connect(net::Loop& loop, const sockaddr_in& source, uint32_t id,
                               ClientEvents& events) override {
    const uint32_t n = static_cast<uint32_t>(targets_.size());
    const PerTarget& t = targets_[cluster_ ? cluster_target_of(id, senders_, n) : 0];
    auto r = SioClient::connect(loop, source, t.addr, t.ws, sio_options_, events, id);
    if (!r) return r.error();
    return static_cast<BenchClient*>(r.value());
  }

 private:
  struct PerTarget {
    sockaddr_in addr{};
    WsClientOptions ws;  // shared by every client of the target (held by reference)
  };
  uint32_t senders_;
  bool cluster_;
  std::deque<PerTarget> targets_;  // a deque: the options' addresses never move
  SioClientOptions sio_options_;   // likewise
};

}  // namespace

std::unique_ptr<Scenario> make_sio_scenario(std::string_view name, const BenchConfig& config) {
  if (name == "fanout") return std::make_unique<Fanout>(config, false);
  if (name == "polling") return std::make_unique<Fanout>(config, true);
  if (name == "cluster") return std::make_unique<Cluster>(config);
  if (name == "echo") return std::make_unique<Echo>();
  if (name == "connect") return std::make_unique<Connect>();
  return nullptr;
}

Result<std::unique_ptr<ClientFactory>> make_sio_client_factory(const BenchConfig& config) {
  if (config.binary) {
    return Error{Errc::kInvalidArgument, "--binary is not supported by the Socket.IO scenarios"};
  }
  if (needs_json_escape(config.room) || needs_json_escape(config.nsp) ||
      config.room.find_first_of("&#% ") != std::string::npos) {
    return Error{Errc::kInvalidArgument, "--room/--nsp: plain text only"};
  }
  if (!config.more_targets.empty() && config.scenario != "cluster") {
    return Error{Errc::kInvalidArgument, "only the cluster scenario takes several --target"};
  }
  std::vector<Target> targets;
  for (size_t i = 0; i <= config.more_targets.size(); ++i) {
    auto target = parse_target(i == 0 ? config.target : config.more_targets[i - 1]);
    if (!target) return target.error();
    targets.push_back(std::move(target.value()));
  }
  return std::unique_ptr<ClientFactory>(std::make_unique<SioClientFactory>(targets, config));
}

std::unique_ptr<Scenario> make_scenario(std::string_view name, const BenchConfig& config) {
  if (auto s = make_sio_scenario(name, config)) return s;
  return make_raw_scenario(name, config);
}

Result<std::unique_ptr<ClientFactory>> make_client_factory(const Scenario& scenario,
                                                           const BenchConfig& config) {
  if (scenario.polling()) return make_polling_client_factory(config);
  return scenario.socketio() ? make_sio_client_factory(config) : make_ws_client_factory(config);
}

}  // namespace sb::bench
