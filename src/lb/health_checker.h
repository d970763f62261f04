#pragma once
// Active health checks, run on one loop of the balancer: every interval each backend gets a
// `GET /healthz` on a fresh connection (Connection: close). `fall` consecutive failures (refused,
// reset, timeout, non-200) take it out of rotation; `rise` consecutive successes bring it back.
//
// It also learns each backend's node id — announced, never configured: from an
// `X-Switchboard-Node` header on the health answer when the node sends one, otherwise by asking
// the backend once for an Engine.IO handshake and reading the node id out of the sid it issues
// (the sid names its node, DESIGN §2). A backend that goes down forgets its id: whatever comes
// back on that address announces its own.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lb/lb_options.h"
#include "net/loop.h"

namespace sb::lb {

class HealthChecker {
 public:
  HealthChecker(net::Loop& loop, LbShared& shared);
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;
  ~HealthChecker();

  /// Loop thread only. Checks every backend now, then every interval.
  void start();
  /// Loop thread only. No new checks (shutdown).
  void stop();

  /// Called by a finished probe (loop thread).
  void on_result(size_t backend, bool handshake_probe, bool ok, int node_id);

 private:
  struct Slot {
    net::Timer timer;
    int ok_streak = 0;
    int fail_streak = 0;
    bool in_flight = false;
  };
  void schedule(size_t i, uint32_t delay_ms);
  void probe(size_t i, bool handshake);

  net::Loop& loop_;
  LbShared& sh_;
  std::vector<std::unique_ptr<Slot>> slots_;
  bool stopped_ = false;
};

/// Reads a node id from a health answer's X-Switchboard-Node header or an Engine.IO handshake
/// body (`0{"sid":"..."` — polling handshake). -1 when neither names one. Exposed for tests.
int node_id_from_response(std::string_view response_bytes);

}  // namespace sb::lb
