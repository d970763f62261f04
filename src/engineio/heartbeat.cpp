#include "engineio/heartbeat.h"

#include "net/loop.h"

namespace sb::engineio {

void HeartbeatNode::cancel() {
  if (queue_ != nullptr) queue_->unlink(*this);
}

HeartbeatQueue::HeartbeatQueue(net::Loop& loop, uint64_t delay_ms, Fire fire)
    : loop_(loop), delay_ms_(delay_ms), fire_(fire) {}

HeartbeatQueue::~HeartbeatQueue() {
  while (head_ != nullptr)
    unlink(*head_);
}

void HeartbeatQueue::unlink(HeartbeatNode& n) {
  if (n.prev_ != nullptr) {
    n.prev_->next_ = n.next_;
  } else {
    head_ = n.next_;
  }
  if (n.next_ != nullptr) {
    n.next_->prev_ = n.prev_;
  } else {
    tail_ = n.prev_;
  }
  n.prev_ = n.next_ = nullptr;
  n.queue_ = nullptr;
  --size_;
  // A removed head leaves the timer armed for its (earlier) deadline: it fires, finds nothing
  // due and re-arms for the new head. Cheaper than re-arming on every pong.
}

void HeartbeatQueue::push(HeartbeatNode& n) {
  n.cancel();
  n.deadline_ms_ = loop_.now_ms() + delay_ms_;
  n.queue_ = this;
  n.prev_ = tail_;
  n.next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = &n;
  } else {
    head_ = &n;
  }
  tail_ = &n;
  ++size_;
  if (head_ == &n && !timer_.armed()) arm_head();
}

void HeartbeatQueue::arm_head() {
  if (head_ == nullptr) return;
  const uint64_t now = loop_.now_ms();
  const uint64_t delay = head_->deadline_ms_ > now ? head_->deadline_ms_ - now : 0;
  loop_.timers().arm(timer_, delay, [this] { on_timer(); });
}

// Fires every node due now, then re-arms for the next head. At most the nodes queued when the
// timer fired are looked at: one that a callback pushes back here (a zero delay) waits for the
// next firing instead of looping.
void HeartbeatQueue::on_timer() {
  const uint64_t now = loop_.now_ms();
  for (size_t budget = size_; budget > 0 && head_ != nullptr; --budget) {
    HeartbeatNode& n = *head_;
    if (n.deadline_ms_ > now) break;
    unlink(n);
    fire_(n);
  }
  arm_head();
}

}  // namespace sb::engineio
