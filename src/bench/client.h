#pragma once
// What a scenario sees of a load-generator client, whatever protocol drives it.
//
// A protocol driver (raw WebSocket today; Engine.IO / Socket.IO later) implements BenchClient on
// top of a net::ConnectionHandler, and reports to ClientEvents. Scenarios only speak in messages:
// "send this payload", "this payload arrived", so the same scenario logic (stamped messages,
// closed loop or paced, latency histograms) runs over any driver.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sb::bench {

class BenchClient {
 public:
  virtual ~BenchClient() = default;
  /// Global client number in this run (0 .. clients-1).
  virtual uint32_t id() const = 0;
  /// Sends one application message (text or binary) on an open client.
  virtual void send_message(std::span<const uint8_t> payload, bool binary) = 0;
};

/// Implemented by the load loop that owns the clients. Called on that loop's thread.
class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  /// The protocol handshake completed: the client may send.
  virtual void on_open(BenchClient& c) = 0;
  virtual void on_message(BenchClient& c, std::span<const uint8_t> payload) = 0;
  /// The client is gone (connect/handshake failure when !was_open). `why` is static text.
  /// The client object is destroyed right after this call.
  virtual void on_closed(BenchClient& c, bool was_open, std::string_view why) = 0;
};

}  // namespace sb::bench
