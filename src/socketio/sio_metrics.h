#pragma once
// Socket.IO metrics (Prometheus names sb_socketio_*), registered on first use. Packets are
// counted where they are encoded or decoded: a unicast packet once when it is sent, a
// broadcast once when it is serialized (whatever the number of receivers), its receivers
// separately as deliveries. Every counter writes the calling loop's own slot.

#include <array>
#include <cstddef>
#include <string_view>

#include "common/metrics.h"

namespace sb::socketio {

struct SioMetrics {
  metrics::Counter packets_in{"sb_socketio_packets_received_total",
                              "Socket.IO packets decoded from clients"};
  metrics::Counter bytes_in{"sb_socketio_received_bytes_total",
                            "Bytes of Socket.IO packets from clients (text and attachments)"};
  metrics::Counter packets_out{"sb_socketio_packets_sent_total",
                               "Socket.IO packets encoded (a broadcast counts once)"};
  metrics::Counter bytes_out{"sb_socketio_sent_bytes_total",
                             "Bytes of Socket.IO packets encoded (a broadcast counts once)"};
  metrics::Counter broadcasts{"sb_socketio_broadcasts_total", "Socket.IO broadcasts serialized"};
  metrics::Counter broadcast_deliveries{"sb_socketio_broadcast_deliveries_total",
                                        "Broadcast packets queued to a receiver"};
  metrics::Counter volatile_dropped{
      "sb_socketio_volatile_dropped_total",
      "Volatile packets not sent because the receiver's transport was not writable"};
  metrics::Counter middleware_errors{"sb_socketio_packet_middleware_errors_total",
                                     "Incoming events refused by a socket.use() middleware"};
  static constexpr std::array<std::string_view, 9> kReasons = {"client namespace disconnect",
                                                               "server namespace disconnect",
                                                               "transport close",
                                                               "transport error",
                                                               "ping timeout",
                                                               "parse error",
                                                               "forced close",
                                                               "forced server close",
                                                               "server shutting down"};
  // Index = the reason's position in kReasons; the last one is "other".
  std::array<metrics::Counter, kReasons.size() + 1> disconnects{{
      {R"(sb_socketio_disconnects_total{reason="client namespace disconnect"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="server namespace disconnect"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="transport close"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="transport error"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="ping timeout"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="parse error"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="forced close"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="forced server close"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="server shutting down"})",
       "Socket.IO sockets disconnected, by Node's reason"},
      {R"(sb_socketio_disconnects_total{reason="other"})",
       "Socket.IO sockets disconnected, by Node's reason"},
  }};

  void count_in(size_t bytes) {
    packets_in.inc();
    bytes_in.inc(static_cast<int64_t>(bytes));
  }
  void count_out(size_t bytes) {
    packets_out.inc();
    bytes_out.inc(static_cast<int64_t>(bytes));
  }
  /// A broadcast packet serialized once: `bytes` = its text plus its attachments.
  void count_broadcast(size_t bytes) {
    broadcasts.inc();
    count_out(bytes);
  }
  void count_disconnect(std::string_view reason);
};

SioMetrics& sio_metrics();

}  // namespace sb::socketio
