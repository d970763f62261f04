#pragma once
// The Socket.IO protocol driver of the load generator: Engine.IO v4 + Socket.IO v5 over a
// WebSocket (WsClient: masked frames, pings), as the official client does it with
// `transports: ["websocket"]`. Works against any Socket.IO server, ours or Node's.
//
//   WebSocket open → wait for the Engine.IO open packet "0{...}" → send "40" (namespace connect)
//   → "40{"sid":...}" → the client is open for the scenario.
//
// To a scenario a Socket.IO client still speaks in messages: send_message(data) emits
// `event(data[, extra])` (with an ack id when asked), and what comes back — the first argument of
// an incoming `receive_event`, or of an ack — is reported as the message. Engine.IO pings are
// answered. The data must be JSON-string-safe text (the stamp and its filler are).

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bench/client.h"
#include "common/result.h"

namespace sb::net {
class Loop;
}

namespace sb::bench {

class WsClient;
struct WsClientOptions;

struct SioClientOptions {
  std::string nsp = "/";
  std::string event = "b";          ///< what send_message emits
  std::string extra_arg;            ///< a second string argument when not empty (a room)
  bool with_ack = false;            ///< ask for an ack; the ack's first argument is the message
  std::string receive_event = "m";  ///< incoming events reported as messages
};

class SioClient final : public BenchClient, public ClientEvents {
 public:
  SioClient(const SioClientOptions& options, ClientEvents& events, uint32_t id);
  ~SioClient() override;

  /// Connects a WebSocket (`ws_options.path` must carry the Engine.IO query) and runs the
  /// Engine.IO and Socket.IO handshakes over it. The WsClient owns the SioClient; the outcome
  /// arrives through `events`, like WsClient::connect.
  static Result<SioClient*> connect(net::Loop& loop, const sockaddr_in& source,
                                    const sockaddr_in& target, const WsClientOptions& ws_options,
                                    const SioClientOptions& options, ClientEvents& events,
                                    uint32_t id);

  // BenchClient
  uint32_t id() const override { return id_; }
  void send_message(std::span<const uint8_t> payload, bool binary) override;

 private:
  // ClientEvents, from the WebSocket below
  void on_open(BenchClient& ws) override;
  void on_message(BenchClient& ws, std::span<const uint8_t> payload) override;
  void on_closed(BenchClient& ws, bool was_open, std::string_view why) override;

  void fail(std::string_view why);
  void send_text(std::string_view text);

  const SioClientOptions& options_;
  ClientEvents& events_;
  WsClient* ws_ = nullptr;  // owns us; null once it reported its close
  uint32_t id_;
  uint64_t next_ack_id_ = 0;
  bool eio_open_ = false;
  bool open_ = false;          // Socket.IO namespace connected
  std::string_view fail_why_;  // static text
};

}  // namespace sb::bench
