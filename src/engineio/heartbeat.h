#pragma once
// Heartbeat deadlines of one loop's sessions, without a timer per session.
//
// A session always waits with one of a few delays that are the same for every session of the
// server (the ping interval, the pong timeout, the close timeout). Within one delay, deadlines
// therefore come in the order they were set, and a FIFO list per delay is already sorted: a
// session is an intrusive node (two pointers, a deadline, its list: 32 bytes) and each list
// has one wheel timer for its head. A net::Timer per session cost 72 bytes (its callback is a
// std::function) and touched the wheel on every pong. Loop-local: no locking.

#include <cstddef>
#include <cstdint>

#include "net/timer_wheel.h"

namespace sb::net {
class Loop;
}

namespace sb::engineio {

class HeartbeatQueue;

/// What waits in a HeartbeatQueue (a base of the session). Unlinks itself when destroyed.
class HeartbeatNode {
 public:
  HeartbeatNode() = default;
  HeartbeatNode(const HeartbeatNode&) = delete;
  HeartbeatNode& operator=(const HeartbeatNode&) = delete;
  ~HeartbeatNode() { cancel(); }

  bool armed() const { return queue_ != nullptr; }
  /// Leaves its queue (no-op when not waiting).
  void cancel();

 private:
  friend class HeartbeatQueue;
  HeartbeatNode* prev_ = nullptr;
  HeartbeatNode* next_ = nullptr;
  uint64_t deadline_ms_ = 0;
  HeartbeatQueue* queue_ = nullptr;
};

class HeartbeatQueue {
 public:
  using Fire = void (*)(HeartbeatNode& n);
  /// Nodes pushed wait `delay_ms`, then `fire(node)` runs (the node has left the queue; it
  /// may be pushed again, here or elsewhere).
  HeartbeatQueue(net::Loop& loop, uint64_t delay_ms, Fire fire);
  HeartbeatQueue(const HeartbeatQueue&) = delete;
  HeartbeatQueue& operator=(const HeartbeatQueue&) = delete;
  ~HeartbeatQueue();

  /// (Re)starts `n`'s wait: it leaves whatever queue it is on and joins the tail of this one.
  void push(HeartbeatNode& n);
  size_t size() const { return size_; }

 private:
  friend class HeartbeatNode;
  void unlink(HeartbeatNode& n);
  void arm_head();
  void on_timer();

  net::Loop& loop_;
  uint64_t delay_ms_;
  Fire fire_;
  HeartbeatNode* head_ = nullptr;
  HeartbeatNode* tail_ = nullptr;
  size_t size_ = 0;
  net::Timer timer_;  // armed for the head's deadline (or earlier: it then re-arms)
};

}  // namespace sb::engineio
