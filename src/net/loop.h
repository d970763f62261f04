#pragma once
// One event loop per thread (thread per core, shared nothing). A loop owns an epoll set, its own
// SO_REUSEPORT listeners, a timer wheel, a mailbox for work posted by other threads, one receive
// buffer shared by all its connections, and the lists that implement corking and deferred close.
//
// One turn: wait for events → fire due timers → read and dispatch (the mailbox is one of the
// events) → run deferred tasks → finish closes (handlers' on_close) → flush every connection
// written to (one sendmsg each, those read from this turn first) → free what was closed. Nothing
// here blocks except epoll_wait.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/unique_function.h"
#include "net/connection.h"
#include "net/timer_wheel.h"

struct epoll_event;

namespace sb::net {

struct LoopOptions {
  size_t max_outbound_bytes = 1 << 20;  // per connection; over it the connection is closed
  size_t high_watermark = 512 << 10;    // above: producers should pause (above_high_watermark())
  size_t low_watermark = 128 << 10;     // back below after being above: on_drain()
  size_t receive_buffer_bytes = 256 << 10;
  size_t max_spill_bytes = 16 << 20;  // unconsumed input per connection (safety net)
  uint32_t max_connections = 100000;  // whole node (all loops)
  uint32_t linger_ms = 2000;          // lingering read after a graceful close
  // After a burst of connections opening or closing, once the loop has seen none for this long,
  // freed heap memory is handed back to the OS (malloc_trim); 0: never. See note_churn().
  uint32_t trim_quiet_ms = 200;
  // Ask the kernel for the time each read's bytes arrived (SO_TIMESTAMPNS on every connection;
  // reads use recvmsg). For load generators: latency measured to the arrival in the client's
  // socket instead of to the moment a busy generator got round to reading it. See rx_time_ns().
  bool rx_timestamps = false;
};

using Task = UniqueFunction<void()>;
using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;

class LoopGroup;

class Loop {
 public:
  Loop(int index, const LoopOptions& options, LoopGroup* group);
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop();

  int index() const { return index_; }
  /// Times this loop handed freed heap memory back to the OS after connection churn.
  uint64_t heap_trims() const { return trims_; }
  const LoopOptions& options() const { return options_; }
  /// With LoopOptions::rx_timestamps: when the kernel received the bytes being delivered now
  /// (CLOCK_MONOTONIC ns; for a read that took several segments, the last one's). 0 when the
  /// option is off, the kernel gave no time, or on_data runs outside a read (bytes offered again
  /// after resume_reading).
  uint64_t rx_time_ns() const { return rx_time_ns_; }
  /// Monotonic milliseconds, read once per turn.
  uint64_t now_ms() const { return now_ms_; }
  TimerWheel& timers() { return timers_; }

  /// Thread-safe: runs `task` on this loop's thread in a coming turn.
  void post(Task task);
  /// Runs `task` on this loop at the end of the current turn (same thread only).
  void defer(Task task);

  /// Adds a listening socket (already bound and listening, non-blocking) to this loop.
  void add_listener(int fd, HandlerFactory factory);
  /// Adopts an already connected socket (e.g. from another loop or a client connect()).
  Connection* adopt(int fd, const sockaddr_storage& peer, std::unique_ptr<ConnectionHandler> h);

  /// Runs until stop() (or, when shutting down, until the last connection is gone).
  void run();
  /// Thread-safe: asks the loop to stop after the current turn.
  void stop();
  /// Thread-safe: stop accepting, call on_shutdown on every connection, exit when they are gone or
  /// after `timeout_ms` (then the rest is aborted).
  void begin_shutdown(uint32_t timeout_ms);

  size_t connection_count() const { return connections_.size(); }
  /// Every connection of this loop (diagnostics). Iterates a copy: `f` may close or abort.
  template <typename F>
  void for_each_connection(F&& f) {
    std::vector<Connection*> all = connections_;
    for (Connection* c : all)
      f(*c);
  }

 private:
  friend class Connection;
  struct Listener {
    int fd;
    HandlerFactory factory;
    bool paused = false;
  };
  enum : uint64_t { kTagMailbox = 1, kTagListener = 2 };  // epoll data for non-connections

  void refresh_clock();
  void accept_from(Listener& l);
  void pause_listener(Listener& l);
  void drain_mailbox();
  void end_of_turn();
  void put_readers_first(const epoll_event* events, int n);
  void epoll_set(Connection& c, uint32_t events, bool add);
  void epoll_remove(int fd);
  void retire(Connection* c);  // remove from the set, free at end of turn
  void note_churn();           // a connection opened or closed: maybe trim the heap later
  void on_trim_timer();
  void on_accept_error(int err);

  int index_;
  LoopOptions options_;
  LoopGroup* group_;
  int epfd_ = -1;
  int eventfd_ = -1;
  uint64_t now_ms_ = 0;
  TimerWheel timers_;
  std::vector<uint8_t> recv_buf_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  Timer accept_backoff_;
  Timer shutdown_timer_;
  Timer trim_timer_;
  uint32_t churn_ = 0;           // connections opened + closed since the last trim
  uint32_t churn_at_arm_ = 0;    // churn_ when trim_timer_ was armed
  uint64_t burst_start_ms_ = 0;  // first arm of the current burst; 0: none
  uint64_t trims_ = 0;
  uint64_t rx_time_ns_ = 0;  // see rx_time_ns()

  std::vector<Connection*> connections_;  // index = position; Connection::slot_
  std::vector<Connection*> dirty_;        // written to this turn: flush at end of turn
  std::vector<Connection*> closing_;      // closed this turn: on_close at end of turn
  std::vector<Connection*> graveyard_;    // freed at the very end of the turn
  std::vector<std::unique_ptr<ConnectionHandler>> dead_handlers_;
  std::vector<Task> deferred_;

  std::mutex mailbox_mu_;
  std::vector<Task> mailbox_;  // guarded by mailbox_mu_
  std::vector<Task> mailbox_work_;

  std::atomic<bool> stop_{false};
  bool shutting_down_ = false;
  uint64_t next_conn_seq_ = 1;
};

}  // namespace sb::net
