#pragma once
// What the Socket.IO server needs from the layers below, as two small interfaces: the loops it
// runs on (post, defer, timers) and the Engine.IO connection of one client (Link). Production
// wires the loops to net::LoopGroup, and a client straight to its engineio::Socket (no Link
// object per connection: Client calls the session directly); unit tests wire them to fakes
// they drive by hand, so namespaces, middleware, acks, rooms and broadcast are tested without
// sockets or threads.

#include <cstdint>
#include <span>
#include <string_view>

#include "common/unique_function.h"
#include "engineio/shared_packet.h"
#include "engineio/socket.h"
#include "net/timer_wheel.h"

namespace sb::net {
class LoopGroup;
}

namespace sb::socketio {

using Task = UniqueFunction<void()>;

/// The node's loops, by index. Everything about one client lives on one loop.
class Loops {
 public:
  virtual ~Loops();
  virtual int size() const = 0;
  /// Thread-safe: runs `t` on loop `loop` in a coming turn.
  virtual void post(int loop, Task t) = 0;
  /// Same thread only: runs `t` at the end of the current turn of `loop`.
  virtual void defer(int loop, Task t) = 0;
  /// Same thread only.
  virtual net::TimerWheel& timers(int loop) = 0;
};

/// Loops backed by a net::LoopGroup.
class NetLoops final : public Loops {
 public:
  explicit NetLoops(net::LoopGroup& group) : group_(group) {}
  int size() const override;
  void post(int loop, Task t) override;
  void defer(int loop, Task t) override;
  net::TimerWheel& timers(int loop) override;

 private:
  net::LoopGroup& group_;
};

/// The loop the calling thread is running Socket.IO code for, or -1 outside of any. Set by the
/// server around every callback it makes (and by test loops), so `io.to(room).emit()` knows
/// where it is called from without a lookup.
int current_loop();

class LoopScope {
 public:
  explicit LoopScope(int loop);
  ~LoopScope();
  LoopScope(const LoopScope&) = delete;
  LoopScope& operator=(const LoopScope&) = delete;

 private:
  int saved_;
};

/// One client's connection, as the Socket.IO layer uses it, when it is not an Engine.IO
/// session (Client(Server&, engineio::Socket&) covers those). Texts are Socket.IO
/// packets (the Engine.IO `4` is added below).
class Link {
 public:
  virtual ~Link();
  virtual int loop() const = 0;
  virtual bool is_open() const = 0;
  virtual void send_text(std::string_view packet) = 0;
  virtual void send_binary(std::span<const uint8_t> data) = 0;
  virtual void send_shared(const engineio::LocalPacket& p) = 0;
  /// Closes the connection. May report the close (Server::on_close) before returning.
  virtual void close() = 0;
  /// The handshake request; null for links that have none (tests).
  virtual const engineio::HandshakeInfo* handshake() const { return nullptr; }
  /// The Engine.IO session id (never shown to other clients).
  virtual std::string_view eio_sid() const { return {}; }
  /// Whether the transport can take a packet now (Node's `transport.writable`): a volatile
  /// packet is dropped, not queued, for a link that cannot. True by default (tests' links).
  virtual bool writable() const { return true; }
};

}  // namespace sb::socketio
