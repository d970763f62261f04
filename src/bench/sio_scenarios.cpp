// The Socket.IO scenarios, against the bench app (`switchboard serve --app bench`, or
// bench/baseline/server.mjs on Node.js Socket.IO — same handlers):
//   connect with query room=NAME → joined to NAME;  b(data[, room]) → io.to(room ?? "r").emit("m",
//   data);  e(data) with an ack → ack(data).
//
// fanout:  every client joins the room; `senders` of them emit b(stamp); each broadcast reaches
//          every member (the sender too, which is what paces a closed loop): `connected`
//          deliveries per message, counted at the receivers.
// echo:    every client emits e(stamp) with an ack, `window` in flight each; one ack per emit.
// connect: clients connect in --steps steps and stay idle; the runner samples the target's RSS
//          after each step (memory per idle connection) and times the connecting (rate).

#include <algorithm>

#include "bench/scenario.h"
#include "bench/sio_client.h"
#include "bench/sio_packet.h"
#include "bench/stamped_worker.h"
#include "bench/target.h"
#include "bench/ws_client.h"

namespace sb::bench {
namespace {

class Fanout final : public Scenario {
 public:
  explicit Fanout(const BenchConfig& c) : senders_(c.senders) {}
  std::string_view name() const override { return "fanout"; }
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
  SioClientFactory(const Target& t, const BenchConfig& c) : target_(t.addr) {
    const bool fanout = c.scenario == "fanout";
    ws_options_.host_header = t.host_header;
    ws_options_.path = socketio_path(t.path, fanout ? "room=" + c.room : "");
    ws_options_.handshake_timeout_ms = c.handshake_timeout_ms;
    ws_options_.upper_handshake = true;
    sio_options_.nsp = c.nsp;
    if (fanout) {
      sio_options_.event = "b";
      // The bench app broadcasts to "r" when no room is given: the short form for the default.
      if (c.room != "r") sio_options_.extra_arg = c.room;
    } else {
      sio_options_.event = "e";
      sio_options_.with_ack = true;
    }
  }
  Result<BenchClient*> connect(net::Loop& loop, const sockaddr_in& source, uint32_t id,
                               ClientEvents& events) override {
    auto r = SioClient::connect(loop, source, target_, ws_options_, sio_options_, events, id);
    if (!r) return r.error();
    return static_cast<BenchClient*>(r.value());
  }

 private:
  sockaddr_in target_;
  WsClientOptions ws_options_;    // shared by every client (held by reference)
  SioClientOptions sio_options_;  // likewise
};

}  // namespace

std::unique_ptr<Scenario> make_sio_scenario(std::string_view name, const BenchConfig& config) {
  if (name == "fanout") return std::make_unique<Fanout>(config);
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
  auto target = parse_target(config.target);
  if (!target) return target.error();
  return std::unique_ptr<ClientFactory>(std::make_unique<SioClientFactory>(target.value(), config));
}

std::unique_ptr<Scenario> make_scenario(std::string_view name, const BenchConfig& config) {
  if (auto s = make_sio_scenario(name, config)) return s;
  return make_raw_scenario(name, config);
}

Result<std::unique_ptr<ClientFactory>> make_client_factory(const Scenario& scenario,
                                                           const BenchConfig& config) {
  return scenario.socketio() ? make_sio_client_factory(config) : make_ws_client_factory(config);
}

}  // namespace sb::bench
