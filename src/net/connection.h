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

#include "common/slab_pool.h"
#include "net/buffer.h"
#include "net/chunk_queue.h"
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

/// Every open socket holds one for its whole life, so it is laid out for idle memory (104
/// bytes, from the per-thread slab pool): what only some connections need at some moments (the
/// handler's timer, the linger timer, a partial input) is allocated on demand.
class Connection : public slab::SlabAllocated {
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
  /// Allocated on first use; when the handler is replaced while it is not armed, it is freed
  /// (an idle WebSocket holds none): do not keep the reference across set_handler().
  Timer& timer() {
    if (!timers_) timers_ = std::make_unique<Timers>();
    return timers_->handler;
  }

 private:
  friend class Loop;
  enum class State : uint8_t { kOpen, kClosing, kLingering, kDead };
  using Chunk = OutChunk;

  void on_readable();
  /// recvmsg() into the loop's buffer, noting the kernel's receive time (rx_timestamps).
  ssize_t receive_stamped();
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
  bool has_spill() const { return spill_ && !spill_->empty(); }
  void set_peer(const sockaddr_storage& peer);

  Loop& loop_;
  uint64_t id_;
  std::unique_ptr<ConnectionHandler> handler_;
  ChunkQueue queue_;   // outbound chunks; [qhead_, end) are pending
  size_t queued_ = 0;  // bytes pending in queue_
  // Unconsumed input (a partial frame or request): allocated when some is left over, freed
  // once consumed.
  std::unique_ptr<std::vector<uint8_t>> spill_;
  // The handler's timer (see timer()) and the linger timer, allocated on first use of either.
  struct Timers : slab::SlabAllocated {
    Timer handler;
    Timer linger;
  };
  std::unique_ptr<Timers> timers_;
  int fd_;
  uint32_t slot_ = 0;   // position in the loop's connection list
  uint32_t qhead_ = 0;  // first pending chunk of queue_
  // The peer address, IPv4 or IPv6 (AF_UNIX peers keep only the family): 24 bytes instead of
  // a 128-byte sockaddr_storage (the IPv6 flow label is not kept).
  struct PeerAddr {
    uint16_t family = 0;
    uint16_t port = 0;      // network byte order
    uint32_t scope_id = 0;  // IPv6
    uint8_t addr[16] = {};  // IPv4: the first 4 bytes
  } peer_;
  State state_ = State::kOpen;
  CloseReason close_reason_ = CloseReason::kLocal;
  // Flags, packed (bit-fields: two bytes instead of nine).
  bool dirty_ : 1 = false;       // on the loop's flush list this turn
  bool want_write_ : 1 = false;  // EPOLLOUT armed
  bool reading_paused_ : 1 = false;
  bool above_high_ : 1 = false;  // crossed the high watermark; on_drain pending
  bool handler_replaced_ : 1 = false;
  bool doomed_ : 1 = false;    // over the outbound limit: writes dropped, aborted at end of turn
  bool admitted_ : 1 = false;  // counted against the node's max_connections
  bool redeliver_pending_ : 1 = false;  // a deferred re-offer of spill_ is queued (resume_reading)
  bool close_queued_ : 1 = false;       // on the loop's closing list
};

}  // namespace sb::net
