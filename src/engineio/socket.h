#pragma once
// One Engine.IO session and the application interface to it.
//
// A Socket is owned by one loop (the one named in its sid) for its whole life; every method is
// called on that loop's thread. Its transport is long-polling or WebSocket, and it may move from
// the first to the second once (the upgrade). Polling output is buffered until a GET takes it;
// WebSocket output is written at once. The session state machine (heartbeat, upgrade probe,
// close) lives here; requests and frames reach it through the Server, which also owns it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/slab_pool.h"
#include "engineio/handshake_info.h"
#include "engineio/heartbeat.h"
#include "engineio/options.h"
#include "engineio/packet.h"
#include "engineio/shared_packet.h"
#include "engineio/sid.h"
#include "net/timer_wheel.h"
#include "ws/frame.h"

namespace sb::net {
class Loop;
}

namespace sb::engineio {

class Socket;
class Server;

/// The application above Engine.IO (the Socket.IO layer, or a test app). One Handler serves
/// every loop: callbacks run on the socket's loop thread.
class Handler {
 public:
  virtual ~Handler();
  /// A new session; its open packet is already queued. Sends made here follow it.
  virtual void on_open(Socket& s) = 0;
  /// A text message; `text` is valid during the call only.
  virtual void on_message(Socket& s, std::string_view text) = 0;
  /// A binary message; `data` is valid during the call only.
  virtual void on_binary(Socket& s, std::span<const uint8_t> data) = 0;
  /// The session is over: "transport close", "ping timeout", "transport error", "forced close",
  /// "parse error" or "server shutting down" (Node's reasons). Sends are ignored from now on;
  /// the Socket is freed at the end of the loop turn.
  virtual void on_close(Socket& s, std::string_view reason) = 0;
};

enum class ContentEncoding : uint8_t { kIdentity, kGzip, kDeflate };

/// Where the answer to a parked polling GET goes: an entry in the parked table of the loop
/// whose connection carries the request (possibly another loop than the socket's).
struct PollWaiter {
  uint64_t id = 0;
  int loop = -1;
  ContentEncoding encoding = ContentEncoding::kIdentity;
  bool xss_header = false;  // an old-IE user agent: add X-XSS-Protection: 0 (as Node does)
};

/// An answer to a polling request, built on the socket's loop and written on the request's.
struct PollReply {
  enum class Kind : uint8_t { kPayload, kOk, kError, kEmpty };
  uint16_t status = 200;
  Kind kind = Kind::kPayload;
  std::string body;
  ContentEncoding encoding = ContentEncoding::kIdentity;
  bool xss_header = false;
  std::string set_cookie;  // the handshake's cookie header value, if any

  static PollReply error(ErrorCode code);
  static PollReply empty(uint16_t status) { return {status, Kind::kEmpty, {}, {}, false, {}}; }
  static PollReply ok() { return {200, Kind::kOk, "ok", {}, false, {}}; }
};

/// The socket's side of one WebSocket (the active transport, or a probe). Implemented for a
/// WebSocket on the socket's own loop (the WebSocket object itself) and for one relayed from
/// another loop (a small object of its own). The socket lets go of it with release(), never
/// delete: hold it in a WsLinkPtr.
class WsLink {
 public:
  WsLink() = default;
  WsLink(const WsLink&) = delete;
  WsLink& operator=(const WsLink&) = delete;

  /// Identifies the WebSocket in events reported to the socket.
  virtual uint64_t key() const = 0;
  virtual void send_text(PacketType type, std::string_view data) = 0;
  virtual void send_binary(std::span<const uint8_t> data) = 0;
  virtual void send_shared(const LocalPacket& p) = 0;
  /// Whether a frame sent now leaves without piling up behind others (below the connection's
  /// high watermark). A link to another loop cannot see that connection: it says true.
  virtual bool writable() const { return true; }
  /// Closes the WebSocket (close frame without a code, as Node). No event comes back.
  virtual void close() = 0;
  /// The socket is done with the link: no event reaches the socket any more. A relay link is
  /// freed; a WebSocket on this loop (owned by its connection) only forgets the socket.
  virtual void release() = 0;

  struct Release {
    void operator()(WsLink* l) const { l->release(); }
  };

 protected:
  ~WsLink() = default;
};
using WsLinkPtr = std::unique_ptr<WsLink, WsLink::Release>;

// The heartbeat (ping interval, pong deadline, close timeout) is a HeartbeatNode base: the
// loop's queues hold it (heartbeat.h), not a timer of its own.
//
// Every session holds one for its whole life: from the per-thread slab pool, flags packed.
class Socket : private HeartbeatNode, public slab::SlabAllocated {
 public:
  Socket(Server& server, net::Loop& loop, std::string_view sid, Transport transport,
         HandshakeInfo handshake);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  std::string_view sid() const { return {sid_, kSidLength}; }
  net::Loop& loop() const;
  Transport transport() const { return transport_; }
  /// A WebSocket is probing (between its attach and the `5` upgrade packet).
  bool upgrading() const { return poll_ && poll_->probe; }
  bool upgraded() const { return upgraded_; }
  /// Open: sends are delivered. False once close() was called or the session ended.
  bool is_open() const { return state_ == State::kOpen; }
  const HandshakeInfo& handshake() const { return handshake_; }
  /// Bytes waiting for a polling GET.
  size_t buffered_bytes() const { return poll_ ? poll_->queued_bytes : 0; }
  /// Whether a packet sent now goes out at once (Node's `transport.writable`, adapted): open,
  /// not upgrading, and either a polling GET is waiting for it or the WebSocket is below its
  /// high watermark. The Socket.IO layer drops volatile packets when it is false.
  bool writable() const;

  void send_text(std::string_view text);
  void send_binary(std::span<const uint8_t> data);
  /// A packet serialized once for many receivers: wrap it once per loop (LocalPacket).
  void send_shared(const LocalPacket& p);
  /// Convenience for a single receiver: wraps `p` for this loop first.
  void send_shared(const SharedPacket& p) { send_shared(LocalPacket(p)); }
  /// Closes the session ("forced close") after delivering what is buffered: a polling client
  /// gets the close packet with its next GET (or the session ends after close_timeout_ms).
  void close();

  /// Free for the layer above (e.g. its per-connection state).
  void* user_data = nullptr;

 private:
  friend class Server;
  friend class WsBridge;
  friend class EioWebSocket;
  enum class State : uint8_t { kOpen, kClosing, kClosed };
  struct Queued {
    PacketType type = PacketType::kMessage;
    bool binary = false;
    std::string data;                   // unicast: text after the digit, or raw bytes
    std::optional<LocalPacket> shared;  // a shared packet (then `data` is unused)
  };

  // --- called by the Server / WsBridge on this socket's loop ---
  /// The open packet (`0{…}`) for this session.
  std::string open_packet() const;
  /// Starts the heartbeat; with a WebSocket transport also sends the open packet on it.
  void start(WsLinkPtr websocket);
  /// A polling GET: the answer now, or nullopt when parked until there is something to send.
  std::optional<PollReply> on_get(const PollWaiter& w);
  /// A polling POST body.
  PollReply on_post(std::string_view body, bool octet_stream);
  /// The connection of the parked GET (`loop`, `id`) closed before its answer.
  void on_get_abandoned(int loop, uint64_t id);
  /// A WebSocket with this sid arrived: probe it. False if the session cannot upgrade now
  /// (closed, already upgraded or upgrading): the caller closes the WebSocket.
  bool attach_probe(WsLinkPtr link);
  /// The WebSocket behind `link` is being destroyed without a close event (its loop is torn
  /// down first): drop the pointer without releasing it.
  void forget_link(const WsLink* link);
  void on_ws_message(uint64_t key, ws::MessageType type, std::span<const uint8_t> payload);
  void on_ws_closed(uint64_t key, bool error);
  /// End-of-turn work scheduled by schedule_flush(): answer the parked GET with the queue.
  void flush();
  /// Ends the session now with `reason` (e.g. "server shutting down").
  void terminate(std::string_view reason) { finish(reason, PacketType::kClose); }

  // --- internals ---
  void on_packet(const Packet& p);
  void send_packet(PacketType type, std::string_view data);
  void enqueue(Queued q, size_t bytes);
  void schedule_flush();
  /// The polling payload of the queue (emptied), plus `tail` packets appended.
  std::string take_payload(std::string_view tail = {});
  PollReply payload_reply(const PollWaiter& w, std::string body) const;
  void reply_get(std::string body);
  void schedule_ping();
  void on_heartbeat_timer();
  /// The queues' callbacks (the ping / pong queues, and the close-timeout queue).
  static void fire_heartbeat(HeartbeatNode& n);
  static void fire_close_timeout(HeartbeatNode& n);
  void on_probe_packet(const Packet& p);
  void complete_upgrade();
  void abort_probe();
  /// Ends the session. A parked GET is answered with `get_answer` (close, or noop when the
  /// client itself closed).
  void finish(std::string_view reason, PacketType get_answer);

  Server& server_;
  HandshakeInfo handshake_;
  // Our sids have a fixed length: kept inline, not in a heap string (idle memory).
  char sid_[kSidLength];
  uint8_t loop_index_;  // the owner loop (a sid names at most 256 loops)
  Transport transport_;
  State state_ = State::kOpen;
  // Bit-fields: with the sid they fill the 24 bytes between the handshake and ws_.
  bool upgraded_ : 1 = false;
  bool probed_ : 1 = false;          // the probe answered 2probe
  bool awaiting_pong_ : 1 = false;   // a ping is out; the heartbeat timer is its deadline
  bool pong_refreshed_ : 1 = false;  // the deadline was extended once by another packet
  bool flush_scheduled_ : 1 = false;
  WsLinkPtr ws_;  // active WebSocket transport
  // The polling transport's state: allocated by its first GET or buffered packet, freed by the
  // upgrade, so a WebSocket session carries one pointer instead of ~56 bytes.
  struct Polling {
    std::optional<PollWaiter> get;  // parked polling GET
    std::vector<Queued> queue;      // polling output not yet taken by a GET
    size_t queued_bytes = 0;
    WsLinkPtr probe;  // WebSocket being probed for the upgrade
    // From the probe to the upgrade only: allocated then.
    std::unique_ptr<net::Timer> upgrade_timer;
  };
  Polling& polling() {
    if (!poll_) poll_ = std::make_unique<Polling>();
    return *poll_;
  }
  bool get_parked() const { return poll_ && poll_->get.has_value(); }
  std::unique_ptr<Polling> poll_;
};

}  // namespace sb::engineio
