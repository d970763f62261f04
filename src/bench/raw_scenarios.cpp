// The raw WebSocket scenarios.
//
// raw-chat: every client joins /raw/chat; `senders` of them send stamped messages; the server
// relays each to every client (sender included), so one message = `connected` deliveries.
// raw-echo: every client sends to /raw/echo and gets its own message back: one round trip each.
//
// Both are "stamped message" scenarios (stamped_worker.h).

#include <algorithm>

#include "bench/scenario.h"
#include "bench/stamped_worker.h"
#include "bench/target.h"
#include "bench/ws_client.h"

namespace sb::bench {
namespace {

class RawChat final : public Scenario {
 public:
  explicit RawChat(const BenchConfig& c) : senders_(c.senders) {}
  std::string_view name() const override { return "raw-chat"; }
  std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const override {
    return make_stamped_worker(env, false);
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
    return make_stamped_worker(env, true);
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

std::unique_ptr<Scenario> make_raw_scenario(std::string_view name, const BenchConfig& config) {
  if (name == "raw-chat") return std::make_unique<RawChat>(config);
  if (name == "raw-echo") return std::make_unique<RawEcho>();
  return nullptr;
}

Result<std::unique_ptr<ClientFactory>> make_ws_client_factory(const BenchConfig& config) {
  auto target = parse_target(config.target);
  if (!target) return target.error();
  return std::unique_ptr<ClientFactory>(std::make_unique<WsClientFactory>(target.value(), config));
}

}  // namespace sb::bench
