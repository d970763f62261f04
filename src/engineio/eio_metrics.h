#pragma once
// Engine.IO metrics (Prometheus names sb_engineio_*), registered on first use.

#include <array>
#include <string_view>

#include "common/metrics.h"
#include "engineio/options.h"
#include "engineio/packet.h"

namespace sb::engineio {

struct EioMetrics {
  metrics::Gauge active{"sb_engineio_sessions_active", "Engine.IO sessions open"};
  // Index = transport_index(t). A session counts under its current transport: an upgrade
  // moves it from polling to websocket.
  std::array<metrics::Gauge, 2> by_transport{{
      {"sb_engineio_sessions{transport=\"polling\"}",
       "Engine.IO sessions open, by current transport"},
      {"sb_engineio_sessions{transport=\"websocket\"}",
       "Engine.IO sessions open, by current transport"},
  }};
  std::array<metrics::Counter, 2> opened{{
      {"sb_engineio_sessions_opened_total{transport=\"polling\"}",
       "Engine.IO sessions opened, by initial transport"},
      {"sb_engineio_sessions_opened_total{transport=\"websocket\"}",
       "Engine.IO sessions opened, by initial transport"},
  }};
  // Index = closed_index(reason).
  std::array<metrics::Counter, 7> closed{{
      {"sb_engineio_sessions_closed_total{reason=\"transport close\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"ping timeout\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"transport error\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"forced close\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"parse error\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"server shutting down\"}",
       "Engine.IO sessions closed, by reason"},
      {"sb_engineio_sessions_closed_total{reason=\"other\"}",
       "Engine.IO sessions closed, by reason"},
  }};
  std::array<metrics::Counter, 6> errors{{
      {"sb_engineio_errors_total{code=\"0\"}", "Engine.IO requests refused, by error code"},
      {"sb_engineio_errors_total{code=\"1\"}", "Engine.IO requests refused, by error code"},
      {"sb_engineio_errors_total{code=\"2\"}", "Engine.IO requests refused, by error code"},
      {"sb_engineio_errors_total{code=\"3\"}", "Engine.IO requests refused, by error code"},
      {"sb_engineio_errors_total{code=\"4\"}", "Engine.IO requests refused, by error code"},
      {"sb_engineio_errors_total{code=\"5\"}", "Engine.IO requests refused, by error code"},
  }};
  metrics::Counter upgrades{"sb_engineio_upgrades_total",
                            "Engine.IO sessions upgraded to WebSocket"};
  metrics::Counter cross_loop_requests{"sb_engineio_cross_loop_requests_total",
                                       "Polling requests handed to the session's owner loop"};
  metrics::Counter relayed_websockets{
      "sb_engineio_relayed_websockets_total",
      "WebSocket upgrades relayed because the session lives on another loop"};
  metrics::Counter oversized{"sb_engineio_limit_exceeded_total",
                             "Engine.IO sessions closed for exceeding a limit"};

  void count_error(ErrorCode c) { errors[static_cast<size_t>(c)].inc(); }
  static size_t transport_index(Transport t) { return t == Transport::kPolling ? 0 : 1; }
  void session_opened(Transport t) { by_transport[transport_index(t)].add(1); }
  void session_closed(Transport t) { by_transport[transport_index(t)].add(-1); }
  void moved_to_websocket() {
    by_transport[0].add(-1);
    by_transport[1].add(1);
  }
  void count_closed(std::string_view reason);
};

EioMetrics& eio_metrics();

}  // namespace sb::engineio
