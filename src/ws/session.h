#pragma once
// A WebSocket connection after the 101: drives the frame parser over the loop's receive buffer,
// answers pings, runs the close handshake, and hands complete messages to an Endpoint — the
// application side of one WebSocket route (`/raw/echo`, later Engine.IO's websocket transport).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/slab_pool.h"
#include "net/buffer.h"
#include "net/connection.h"
#include "ws/close_code.h"
#include "ws/deflate.h"
#include "ws/frame.h"
#include "ws/frame_parser.h"

namespace sb::ws {

class Session;

/// One message serialized once for many receivers, in both wire forms: plain, and (when any
/// receiver may take it) compressed with a context-free deflate stream, window 15 bits. Holds
/// cross-thread handles, so the same BroadcastFrame can be posted to every loop.
struct BroadcastFrame {
  net::BlobPtr plain;
  net::BlobPtr compressed;  // empty when not worth compressing or deflate is off

  static BroadcastFrame build(MessageType type, std::span<const uint8_t> message,
                              const DeflateOptions& deflate);
};

/// The same frame wrapped for one loop: what sessions on that loop queue (no atomics per receiver).
struct LocalFrame {
  net::SharedBuffer plain;
  net::SharedBuffer compressed;
  explicit LocalFrame(const BroadcastFrame& f);
};

/// The application side of a WebSocket route. One Endpoint serves every loop: its callbacks run on
/// the session's loop thread, so per-loop state must be indexed by `s.connection().loop().index()`.
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual void on_open(Session& /*s*/) {}
  /// A complete message; `payload` is valid only during the call.
  virtual void on_message(Session& s, MessageType type, std::span<const uint8_t> payload) = 0;
  /// The session is gone (after the close handshake, a failure, or a dropped connection:
  /// code 1006). No sends are possible any more.
  virtual void on_close(Session& /*s*/, uint16_t /*code*/) {}
};

struct SessionOptions {
  Limits limits;
  DeflateOptions deflate;
  /// How long we wait for the peer's close frame after sending ours.
  uint32_t close_timeout_ms = 5000;
};

/// What every session of one WebSocket route shares: its endpoint and options. Sessions hold a
/// reference to it (one pointer per session instead of two): it must outlive them and not move.
struct SessionRoute {
  Endpoint& endpoint;
  const SessionOptions& options;
};

/// Every open WebSocket holds one for its whole life, so it is laid out for idle memory (112
/// bytes, from the per-thread slab pool). An endpoint may derive from it to keep its own
/// per-connection state in the same block (Engine.IO does); the derived object is what the
/// connection owns and frees.
class Session : public net::ConnectionHandler, public slab::SlabAllocated {
 public:
  Session(net::Connection& conn, const SessionRoute& route, std::optional<DeflateParams> deflate);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Call once the 101 is queued: tells the endpoint the session is open.
  void start();

  /// Sends one message (compressed when negotiated and worth it). Dropped after close.
  void send(MessageType type, std::span<const uint8_t> message);
  void send_text(std::string_view text) {
    send(MessageType::kText, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }
  /// Queues a frame serialized once for many receivers (no copy, no per-receiver encoding).
  void send_frame(const LocalFrame& frame);
  /// Starts the close handshake (code, reason); the connection closes when the peer answers or
  /// after close_timeout_ms.
  void close(uint16_t code, std::string_view reason = {});

  net::Connection& connection() const { return conn_; }
  bool deflate_negotiated() const { return deflate_.server_max_window_bits != 0; }
  /// Free for the endpoint (e.g. an index into a per-loop member list).
  uint64_t user_tag = 0;

  // net::ConnectionHandler
  size_t on_data(net::Connection& c, std::span<uint8_t> data) override;
  void on_shutdown(net::Connection& c) override;
  void on_close(net::Connection& c, net::CloseReason reason) override;

 private:
  // The parser's events, forwarded to the frame_* members below. A stack object per on_data
  // rather than a FrameVisitor base: one vtable pointer less in every session.
  class Events;
  friend class Events;
  enum class Notified : uint8_t { kNotOpen, kOpen, kClosed };  // what the endpoint has seen

  void frame_message(MessageType type, std::span<const uint8_t> payload);
  void frame_ping(std::span<const uint8_t> payload);
  void frame_close(uint16_t code, std::string_view reason);

  void write_control(Opcode op, std::span<const uint8_t> payload);
  void fail(uint16_t code, std::string_view reason);
  bool takes_compressed() const;

  Endpoint& endpoint() const { return route_.endpoint; }
  const SessionOptions& options() const { return route_.options; }

  net::Connection& conn_;
  const SessionRoute& route_;
  FrameParser parser_;
  // The negotiated permessage-deflate parameters; server_max_window_bits == 0 when not
  // negotiated (an optional<> would cost a flag and 8 bytes of padding).
  DeflateParams deflate_;
  CloseHandshake close_;
  Notified notified_ = Notified::kNotOpen;
  uint16_t close_code_ = 1006;
};

}  // namespace sb::ws
