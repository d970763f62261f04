#pragma once
// A TCP connection owned by one loop for its whole life.
//
// Reading: the loop reads into its own receive buffer and hands the handler a mutable span parsed
// in place; the handler returns how many bytes it consumed, and only an unconsumed tail (a partial
// frame or request) is copied into this connection's spill buffer — an idle connection holds none.
//
// Writing is corked: write() only queues (small writes are copied into a tail block, shared buffers
// are referenced), and the loop sends everything queued for a connection in one sendmsg() at the
// end of the turn. What the kernel refuses stays queued and EPOLLOUT is armed until it drains.
//
// Closing is deferred: close()/abort() mark the connection; the handler's on_close runs and memory
// is freed at the end of the turn, so a connection may be closed from inside any callback,
// including while someone iterates over a list that contains it.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/buffer.h"
#include "net/timer_wheel.h"

namespace sb::net {

class Loop;
class Connection;

enum class CloseReason : uint8_t {
  kPeerClosed,        // EOF from the peer
  kLocal,             // the application closed it
  kIoError,           // reset, broken pipe, EPOLLERR
  kOutboundOverflow,  // outbound queue passed max_outbound_bytes (slow reader)
  kReceiveOverflow,   // unconsumed input passed max_spill_bytes
  kTimeout,           // a protocol timeout (header, body, idle, ping)
  kShutdown,          // the server is stopping
  kProtocolError,     // the peer violated the protocol
  kConnectionLimit,   // over --max-connections
};
inline constexpr size_t kCloseReasonCount = 9;
std::string_view close_reason_name(CloseReason r);

/// What a protocol layer implements to own a connection. Exactly one handler at a time; replacing
/// it (HTTP → WebSocket) with Connection::set_handler frees the old one at the end of the turn.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  /// Bytes arrived. `data` may be modified in place (unmasking). Returns the number of bytes
  /// consumed; the rest is presented again, followed by new bytes, on the next call.
  virtual size_t on_data(Connection& c, std::span<uint8_t> data) = 0;
  /// The outbound queue went above the high watermark earlier and is now below the low one.
  virtual void on_drain(Connection& /*c*/) {}
  /// The server is shutting down: say goodbye (e.g. WebSocket close 1001) and close.
  virtual void on_shutdown(Connection& c);
  /// The connection is closed (called once, at the end of the turn in which it was closed).
  /// No more writes are possible. The handler is destroyed right after.
  virtual void on_close(Connection& /*c*/, CloseReason /*reason*/) {}
};

class Connection {
 public:
  Connection(Loop& loop, int fd, uint64_t id, const sockaddr_storage& peer);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  uint64_t id() const { return id_; }
  Loop& loop() const { return loop_; }
  int fd() const { return fd_; }
  /// The peer's address (a copy: only the IPv4/IPv6 part is kept per connection).
  sockaddr_storage peer() const;
  std::string peer_ip() const;
  bool open() const { return state_ == State::kOpen; }

  /// Queues bytes (copied). They leave with everything else queued this turn.
  void write(std::string_view bytes);
  /// Queues a slice of shared bytes without copying them.
  void write(const SharedBuffer& buf, size_t offset, size_t length);
  void write(const SharedBuffer& buf) { write(buf, 0, buf.size()); }
  /// Contiguous space at the tail of the queue for serializing in place; commit() what was used.
  /// Empty when the connection no longer sends (closing, or over the outbound limit): check it.
  std::span<uint8_t> reserve(size_t n);
  void commit(size_t n);

  size_t queued_bytes() const { return queued_; }
  bool above_high_watermark() const;

  /// Sends what is queued, then closes (with a lingering read so the peer gets our last bytes).
  void close(CloseReason reason = CloseReason::kLocal);
  /// Closes now; queued bytes are dropped.
  void abort(CloseReason reason);

  /// Replaces the handler; the old one is destroyed at the end of the turn. Bytes not consumed
  /// by the old handler in this read are offered to the new one.
  void set_handler(std::unique_ptr<ConnectionHandler> h);
  ConnectionHandler* handler() const { return handler_.get(); }

  void pause_reading();
  void resume_reading();

  /// A timer owned by the connection, free for the current handler (header timeout, ping...).
  Timer& timer() { return timer_; }

 private:
  friend class Loop;
  enum class State : uint8_t { kOpen, kClosing, kLingering, kDead };
  struct Chunk {
    SharedBuffer buf;
    uint32_t offset;
    uint32_t length;
  };

  void on_readable();
  void on_writable();
  enum class SendResult : uint8_t { kDrained, kBlocked, kError };
  /// sendmsg() (send() for one chunk) of everything queued, 64 chunks per call, until drained or
  /// the kernel refuses.
  SendResult send_queued();
  /// End-of-turn work: send, arm or disarm EPOLLOUT, watermarks, graceful close. False if dead.
  bool flush();
  void mark_dirty();
  void over_limit();  // mark_dirty's rare path: the queue passed max_outbound_bytes
  void update_events();
  void begin_close(CloseReason reason, bool graceful);
  void finish_close();  // called by the loop at the end of the turn
  void deliver(std::span<uint8_t> data, size_t& consumed);
  void deliver_spill();
  void drop_queue();

  Loop& loop_;
  int fd_;
  uint32_t slot_ = 0;  // position in the loop's connection list (packed next to fd_)
  uint64_t id_;
  // The peer address, IPv4 or IPv6 (AF_UNIX peers keep only the family): 28 bytes instead of
  // a 128-byte sockaddr_storage per connection.
  union PeerAddr {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};
  uint32_t qhead_ = 0;  // first pending chunk of queue_ (fills the 4 bytes after peer_)
  std::unique_ptr<ConnectionHandler> handler_;
  std::vector<Chunk> queue_;    // outbound chunks; [qhead_, end) are pending
  size_t queued_ = 0;           // bytes pending in queue_
  std::vector<uint8_t> spill_;  // unconsumed input (a partial frame or request)
  Timer timer_;
  std::unique_ptr<Timer> linger_timer_;  // only while lingering (allocated then): idle saves 64 B
  State state_ = State::kOpen;
  CloseReason close_reason_ = CloseReason::kLocal;
  bool dirty_ = false;       // on the loop's flush list this turn
  bool want_write_ = false;  // EPOLLOUT armed
  bool reading_paused_ = false;
  bool above_high_ = false;  // crossed the high watermark; on_drain pending
  bool handler_replaced_ = false;
  bool doomed_ = false;    // over the outbound limit: writes dropped, aborted at end of turn
  bool admitted_ = false;  // counted against the node's max_connections
  bool redeliver_pending_ = false;  // a deferred re-offer of spill_ is queued (resume_reading)
  bool close_queued_ = false;       // on the loop's closing list
};

}  // namespace sb::net
