#pragma once
// The raw WebSocket protocol driver of the load generator: one client connection, as a browser
// would make it. Connects without blocking from a chosen source address, sends the upgrade
// request with a random Sec-WebSocket-Key, checks "101" and Sec-WebSocket-Accept, then parses
// server frames (ClientFrameParser) and sends frames masked with a fresh random key each.
// It answers pings and the server's close frame; permessage-deflate is offered only on request
// (what we send is never compressed; what the server compresses is inflated).

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bench/client.h"
#include "bench/client_frame_parser.h"
#include "common/result.h"
#include "net/connection.h"

namespace sb::net {
class Loop;
}

namespace sb::bench {

struct WsClientOptions {
  std::string host_header;  ///< value of Host:
  std::string path = "/";
  bool offer_deflate = false;
  uint32_t handshake_timeout_ms = 10000;  ///< connect + upgrade
  size_t max_message_size = size_t{64} << 20;
  /// A protocol above (Socket.IO) has its own handshake: the handshake timeout keeps running
  /// after the 101 until handshake_done().
  bool upper_handshake = false;
};

class WsClient final : public net::ConnectionHandler,
                       public BenchClient,
                       private ClientFrameVisitor {
 public:
  WsClient(const WsClientOptions& options, ClientEvents& events, uint32_t id);
  ~WsClient() override;

  /// Opens a non-blocking TCP connection from `source` (port chosen by the kernel at connect
  /// time) to `target`, adopts it on `loop` with a new WsClient and sends the upgrade request.
  /// The outcome arrives later through `events` (on_open or on_closed). Fails only when no socket
  /// could be created (descriptors, addresses, ephemeral ports).
  static Result<WsClient*> connect(net::Loop& loop, const sockaddr_in& source,
                                   const sockaddr_in& target, const WsClientOptions& options,
                                   ClientEvents& events, uint32_t id);

  uint32_t id() const override { return id_; }
  bool is_open() const { return open_; }
  void send_message(std::span<const uint8_t> payload, bool binary) override;
  /// Sends a close frame and closes once it is out.
  void close(uint16_t code);
  /// The protocol above finished its handshake: stop the handshake timeout.
  void handshake_done();
  /// Keeps the protocol driver layered on this client (the events receiver) alive as long as
  /// the connection: it is destroyed with this client, after on_closed.
  void own_upper(std::unique_ptr<ClientEvents> upper) { upper_ = std::move(upper); }

  // net::ConnectionHandler
  size_t on_data(net::Connection& c, std::span<uint8_t> data) override;
  void on_shutdown(net::Connection& c) override;
  void on_close(net::Connection& c, net::CloseReason reason) override;

 private:
  void start(net::Connection& c);
  /// Returns bytes consumed; 0 with conn still open means "need more".
  size_t on_handshake(net::Connection& c, std::span<const uint8_t> data);
  void fail_handshake(net::Connection& c, std::string_view why);
  void send_frame(ws::Opcode op, std::span<const uint8_t> payload);

  // ClientFrameVisitor
  void on_message(ws::MessageType type, std::span<const uint8_t> payload) override;
  void on_ping(std::span<const uint8_t> payload) override;
  void on_close(uint16_t code, std::string_view reason) override;

  const WsClientOptions& options_;
  ClientEvents& events_;
  net::Connection* conn_ = nullptr;
  ClientFrameParser parser_;
  std::string key_;  // our Sec-WebSocket-Key (base64 of 16 random bytes)
  uint32_t id_;
  bool open_ = false;
  bool close_sent_ = false;
  std::string_view fail_why_;  // set when the handshake failed
  bool upper_done_ = false;    // upper_handshake: the protocol above is open
  std::unique_ptr<ClientEvents> upper_;
};

/// A small, fast PRNG (xoshiro256**) per thread, seeded from std::random_device: mask keys and
/// handshake keys need unpredictability against caching proxies, not cryptographic strength.
uint64_t fast_random();

}  // namespace sb::bench
