#pragma once
// A hashed timing wheel: coarse (10 ms ticks), O(1) arm and cancel, no allocation per timer.
// Timers are intrusive: the owner (a connection, a session) embeds a Timer, so thousands of idle
// connections cost one list node each and no heap. Heartbeats and protocol timeouts are measured
// in seconds; a 10 ms resolution is plenty and lets the loop sleep until the next busy slot.

#include <cstdint>
#include <functional>
#include <vector>

#include "common/slab_pool.h"

namespace sb::net {

class TimerWheel;

/// Usually embedded in its owner; one allocated on its own (a connection's timer, made on
/// demand) comes from the per-thread slab pool.
class Timer : public slab::SlabAllocated {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  bool armed() const { return wheel_ != nullptr; }
  void cancel();

 private:
  friend class TimerWheel;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  TimerWheel* wheel_ = nullptr;
  uint64_t deadline_tick_ = 0;
  size_t slot_ = 0;  // list the timer is on: a wheel slot, or kExpired while firing
  std::function<void()> fn_;
};

class TimerWheel {
 public:
  static constexpr uint64_t kTickMs = 10;
  static constexpr size_t kSlots = 1024;  // one rotation = 10.24 s; longer timers wait rounds

  explicit TimerWheel(uint64_t now_ms);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  ~TimerWheel();

  /// (Re)arms `t` to fire `fn` once after at least `delay_ms`. Re-arming an armed timer moves it.
  void arm(Timer& t, uint64_t delay_ms, std::function<void()> fn);
  /// Fires every timer due at `now_ms`. A callback may arm or cancel any timer, itself included.
  void advance(uint64_t now_ms);
  /// Milliseconds until the loop should next call advance(), or -1 when no timer is armed.
  int next_timeout_ms(uint64_t now_ms) const;
  size_t size() const { return count_; }

 private:
  friend class Timer;
  void unlink(Timer& t);

  void link(Timer& t, size_t slot);
  static constexpr size_t kExpired = kSlots;  // extra list: due timers about to fire

  std::vector<Timer*> slots_;  // heads of intrusive doubly linked lists (kSlots + 1)
  uint64_t current_tick_;  // every tick < current_tick_ has been processed; arm() counts from it
  size_t count_ = 0;
};

}  // namespace sb::net
