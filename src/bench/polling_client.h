#pragma once
// The long-polling protocol driver of the load generator: Engine.IO v4 + Socket.IO v5 over
// HTTP/1.1 long-polling, as a browser runs the official client with `transports: ["polling"]`
// (never upgrading). Works against any Socket.IO server, ours or Node's.
//
// Two keep-alive TCP connections per client, like a browser's two sockets to one origin:
//   poll leg  handshake GET → open packet (sid); then always one GET pending, re-sent as soon as
//             the previous one is answered; the answers carry the server's packets
//             (\x1e-joined): "40{sid}" (connected), events "42[…]", pings "2";
//   data leg  POSTs, one at a time: "40" (namespace connect), emits "42[…]", pongs "3". What is
//             queued while a POST is out leaves joined in the next one (at most kMaxPostBody).
//             The data leg is closed after 4 s without a POST and reopened when needed: servers
//             drop idle keep-alive connections (Node.js after 5 s), and a POST racing that close
//             would be lost.
//
// Lifetime: the poll leg's handler owns the client; when the poll leg closes, the data leg is
// detached and closed, on_closed is reported, and the client is destroyed with the poll leg.
// Every wait is bounded: the handshake by --handshake-timeout-ms, a POST by the same, a pending
// GET by the server's pingInterval + pingTimeout (+ slack); responses by kMaxResponseBody.

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bench/client.h"
#include "common/result.h"
#include "net/connection.h"
#include "net/timer_wheel.h"

namespace sb::net {
class Loop;
}

namespace sb::bench {

struct PollingClientOptions {
  sockaddr_in target{};
  std::string host_header;  ///< value of Host:
  std::string path;         ///< handshake path with query, "transport=polling"
  std::string nsp = "/";
  std::string event = "b";                ///< what send_message emits
  std::string extra_arg;                  ///< a second string argument when not empty (a room)
  std::string receive_event = "m";        ///< incoming events reported as messages
  uint32_t handshake_timeout_ms = 10000;  ///< connect + both handshakes; also a POST's limit
};

class PollingClient final : public BenchClient {
 public:
  /// Largest response body accepted (a GET answer holds everything queued since the last one).
  static constexpr size_t kMaxResponseBody = size_t{8} << 20;
  /// Largest POST body; more queued waits for the next POST (servers refuse > 1 MB by default).
  static constexpr size_t kMaxPostBody = size_t{256} << 10;
  /// Queued and not yet POSTed, beyond which the client gives up (the server does not read).
  static constexpr size_t kMaxOutbox = size_t{8} << 20;

  PollingClient(const PollingClientOptions& options, ClientEvents& events, uint32_t id,
                net::Loop& loop, const sockaddr_in& source);
  ~PollingClient() override;
  PollingClient(const PollingClient&) = delete;
  PollingClient& operator=(const PollingClient&) = delete;

  /// Opens the poll leg from `source` and sends the handshake GET. The outcome arrives later
  /// through `events` (on_open or on_closed). Fails only when no socket could be created.
  static Result<PollingClient*> connect(net::Loop& loop, const sockaddr_in& source,
                                        const PollingClientOptions& options, ClientEvents& events,
                                        uint32_t id);

  uint32_t id() const override { return id_; }
  void send_message(std::span<const uint8_t> payload, bool binary) override;

 private:
  class Leg;
  friend class Leg;
  enum class Role : uint8_t { kPoll, kData };

  // From the legs.
  void on_response(Role role, uint16_t code, std::string_view body, bool server_closes);
  void on_leg_error(std::string_view why);
  void on_leg_closed(Role role, net::CloseReason reason);
  void on_leg_shutdown();

  void on_handshake(std::string_view body);
  void on_packet(std::string_view packet);
  void send_poll();
  void queue_packet(std::string_view packet);
  void flush_outbox();
  void fail(std::string_view why);
  bool failing() const { return closed_ || !fail_why_.empty(); }
  /// Forgets the data leg (its callbacks no longer reach us) and closes it gracefully.
  void drop_data_leg();

  const PollingClientOptions& options_;
  ClientEvents& events_;
  net::Loop& loop_;
  sockaddr_in source_;
  uint32_t id_;
  net::Connection* poll_conn_ = nullptr;
  net::Connection* data_conn_ = nullptr;
  Leg* data_leg_ = nullptr;
  net::Timer handshake_timer_;
  std::string poll_path_;  // the handshake path + "&sid=SID"
  std::string outbox_;     // packets not yet POSTed, \x1e-joined
  uint64_t poll_limit_ms_ = 0;
  bool eio_open_ = false;
  bool open_ = false;          // Socket.IO namespace connected
  bool poll_pending_ = false;  // a GET (the handshake, then a long poll) is out
  bool post_in_flight_ = false;
  bool closed_ = false;        // on_closed reported
  std::string_view fail_why_;  // static text
};

}  // namespace sb::bench
