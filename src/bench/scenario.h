#pragma once
// A scenario says what the clients do; the load loops (load_loop.h) do the rest: connecting,
// phases, ticks, stats. The pieces plug together as
//
//   ClientFactory (protocol driver: raw WebSocket, Socket.IO over WebSocket or long-polling)
//        └─ makes BenchClients, which report to the LoadLoop (ClientEvents)
//   Scenario ─ makes one ScenarioWorker per loop, which drives that loop's clients
//   LoopStats (+ Histogram) per loop → merged → Report
//
// Workers run on their loop's thread only and never see another loop's clients: a message sent
// by a client on loop 0 and received on loop 1 is counted by loop 1's worker from its stamp.

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "bench/bench_config.h"
#include "bench/client.h"
#include "bench/loop_stats.h"
#include "common/result.h"

namespace sb::net {
class Loop;
}

namespace sb::bench {

/// Makes client connections of one protocol.
class ClientFactory {
 public:
  virtual ~ClientFactory() = default;
  /// Starts connecting client `id` from `source`; the outcome is reported to `events`.
  virtual Result<BenchClient*> connect(net::Loop& loop, const sockaddr_in& source, uint32_t id,
                                       ClientEvents& events) = 0;
};

/// The measurement window, in CLOCK_MONOTONIC ns: messages sent in [start, end) are counted.
/// Sending begins at `send_from` (the warm-up) and stops at `end`.
struct Window {
  uint64_t send_from = 0;
  uint64_t start = 0;
  uint64_t end = 0;
};

/// What a worker gets from its loop.
struct WorkerEnv {
  const BenchConfig& config;
  LoopStats& stats;
  int loop_index;
  int loop_count;
  net::Loop& loop;  ///< the worker's loop: rx_time_ns() of the message being delivered, defer()
};

/// One loop's share of a scenario. Called on that loop's thread.
class ScenarioWorker {
 public:
  virtual ~ScenarioWorker() = default;
  virtual void on_open(BenchClient& c) = 0;
  virtual void on_message(BenchClient& c, std::span<const uint8_t> payload) = 0;
  /// `c` is gone (destroyed after this call).
  virtual void on_closed(BenchClient& c) = 0;
  /// Connections are set up: begin sending (warm-up first).
  virtual void start(const Window& w) = 0;
  /// Every ~10 ms while running (paced sending).
  virtual void tick(uint64_t now_ns) = 0;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::string_view name() const = 0;
  virtual std::unique_ptr<ScenarioWorker> make_worker(WorkerEnv env) const = 0;
  /// Deliveries each message sent should produce when `connected` clients are up.
  virtual uint64_t receivers_per_message(uint64_t connected) const = 0;
  /// Number of clients that send (for the report).
  virtual uint64_t sender_count(uint64_t connected) const = 0;
  /// Name of the delivery unit in reports ("deliveries", "round trips").
  virtual std::string_view unit() const { return "deliveries"; }
  /// False for scenarios that only connect (no warm-up, window or drain).
  virtual bool sends_messages() const { return true; }
  /// True when the client driver is Socket.IO (else raw WebSocket).
  virtual bool socketio() const { return false; }
  /// True when the Socket.IO clients use HTTP long-polling instead of a WebSocket.
  virtual bool polling() const { return false; }
};

/// The scenarios known by name (kScenarioNames). nullptr for an unknown name.
std::unique_ptr<Scenario> make_scenario(std::string_view name, const BenchConfig& config);
/// The protocol driver for a scenario (raw WebSocket or Socket.IO).
Result<std::unique_ptr<ClientFactory>> make_client_factory(const Scenario& scenario,
                                                           const BenchConfig& config);

inline constexpr std::string_view kScenarioNames =
    "connect, fanout, cluster, echo, polling, raw-chat, raw-echo";

// Per protocol: scenarios from raw_scenarios.cpp and sio_scenarios.cpp (make_scenario asks each
// in turn); client factories for raw WebSocket, Socket.IO over WebSocket, and long-polling
// (polling_scenario.cpp).
std::unique_ptr<Scenario> make_raw_scenario(std::string_view name, const BenchConfig& config);
std::unique_ptr<Scenario> make_sio_scenario(std::string_view name, const BenchConfig& config);
Result<std::unique_ptr<ClientFactory>> make_ws_client_factory(const BenchConfig& config);
Result<std::unique_ptr<ClientFactory>> make_sio_client_factory(const BenchConfig& config);
Result<std::unique_ptr<ClientFactory>> make_polling_client_factory(const BenchConfig& config);

}  // namespace sb::bench
