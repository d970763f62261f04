#include "net/timer_wheel.h"

namespace sb::net {

void Timer::cancel() {
  if (wheel_ != nullptr) wheel_->unlink(*this);
}

TimerWheel::TimerWheel(uint64_t now_ms)
    : slots_(kSlots + 1, nullptr), current_tick_(now_ms / kTickMs + 1) {}

TimerWheel::~TimerWheel() {
  for (Timer* head : slots_) {
    while (head != nullptr) {
      Timer* next = head->next_;
      head->wheel_ = nullptr;
      head->prev_ = head->next_ = nullptr;
      head = next;
    }
  }
}

void TimerWheel::link(Timer& t, size_t slot) {
  Timer*& head = slots_[slot];
  t.slot_ = slot;
  t.prev_ = nullptr;
  t.next_ = head;
  if (head != nullptr) head->prev_ = &t;
  head = &t;
  t.wheel_ = this;
  ++count_;
}

void TimerWheel::unlink(Timer& t) {
  if (t.prev_ != nullptr) {
    t.prev_->next_ = t.next_;
  } else {
    slots_[t.slot_] = t.next_;
  }
  if (t.next_ != nullptr) t.next_->prev_ = t.prev_;
  t.prev_ = t.next_ = nullptr;
  t.wheel_ = nullptr;
  --count_;
}

void TimerWheel::arm(Timer& t, uint64_t delay_ms, std::function<void()> fn) {
  if (t.armed()) unlink(t);
  // Round up so a timer never fires early; a deadline in the tick being processed goes to the next.
  uint64_t ticks = (delay_ms + kTickMs - 1) / kTickMs;
  t.deadline_tick_ = current_tick_ + (ticks == 0 ? 1 : ticks);
  t.fn_ = std::move(fn);
  link(t, t.deadline_tick_ % kSlots);
}

void TimerWheel::advance(uint64_t now_ms) {
  const uint64_t target = now_ms / kTickMs;
  while (current_tick_ <= target && count_ > 0) {
    // Two passes: first move the due timers to the expired list (no callback runs while a slot
    // list is walked), then fire them one by one. A callback may cancel or re-arm any timer.
    Timer* t = slots_[current_tick_ % kSlots];
    while (t != nullptr) {
      Timer* next = t->next_;
      if (t->deadline_tick_ <= current_tick_) {
        unlink(*t);
        link(*t, kExpired);
      }
      t = next;
    }
    while (Timer* due = slots_[kExpired]) {
      unlink(*due);
      auto fn = std::move(due->fn_);  // the callback may re-arm `due` with a new callback
      fn();
    }
    ++current_tick_;
  }
  if (current_tick_ <= target) current_tick_ = target + 1;
}

int TimerWheel::next_timeout_ms(uint64_t now_ms) const {
  if (count_ == 0) return -1;
  const uint64_t now_tick = now_ms / kTickMs;
  // The first non-empty slot ahead bounds the sleep; its timers may belong to a later round, in
  // which case the loop wakes early and sleeps again — cheap, and it keeps this O(slots).
  for (size_t d = 0; d < kSlots; ++d) {
    uint64_t tick = current_tick_ + d;
    if (slots_[tick % kSlots] != nullptr) {
      if (tick <= now_tick) return 0;
      return static_cast<int>((tick - now_tick) * kTickMs - now_ms % kTickMs);
    }
  }
  return static_cast<int>(kSlots * kTickMs);
}

}  // namespace sb::net
