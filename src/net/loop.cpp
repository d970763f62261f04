#include "net/loop.h"

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "common/log.h"
#include "common/metrics.h"
#include "net/loop_group.h"

namespace sb::net {
namespace {

// Epoll tags: a connection's epoll data is its (8-byte aligned) address; the mailbox is 1 and a
// listener is its index in listeners_, shifted, with bit 1 set.
constexpr uint64_t kMailboxTag = 1;
constexpr uint64_t kListenerBit = 2;
constexpr int kMaxEvents = 512;
constexpr int kAcceptsPerWake = 64;
constexpr uint32_t kAcceptBackoffMs = 100;
// Heap trimming (note_churn): not for fewer opens + closes than this; during a steady churn, at
// the latest this long after it began.
constexpr uint32_t kTrimMinChurn = 64;
constexpr uint64_t kTrimMaxDelayMs = 10'000;

// Whether malloc is glibc's, so that malloc_trim has a heap to trim. Sanitizer builds replace
// malloc, and glibc's allocator is then never set up: the first malloc_trim sets it up, and two
// loops trimming at once for the first time both do (ptmalloc_init is not thread-safe), which
// glibc reports at thread exit as "a->attached_threads > 0" and aborts. Seen in CI with the
// ASan build and 2 loops. The trim bookkeeping still runs there; only the call is skipped.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMallocIsGlibc = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool kMallocIsGlibc = false;
#else
constexpr bool kMallocIsGlibc = true;
#endif
#else
constexpr bool kMallocIsGlibc = true;
#endif

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

struct ConnMetrics {
  metrics::Counter accepted{"sb_connections_accepted_total", "Connections accepted"};
  metrics::Counter rejected{"sb_connections_rejected_total{reason=\"limit\"}",
                            "Connections refused at accept"};
  metrics::Counter accept_errors{"sb_accept_errors_total", "accept() failures (EMFILE, ENFILE...)"};
  metrics::Gauge active{"sb_connections_active", "Open connections"};
  std::array<std::unique_ptr<metrics::Counter>, kCloseReasonCount> closed;
  ConnMetrics() {
    for (size_t i = 0; i < kCloseReasonCount; ++i) {
      closed[i] = std::make_unique<metrics::Counter>(
          "sb_connections_closed_total{reason=\"" +
              std::string(close_reason_name(static_cast<CloseReason>(i))) + "\"}",
          "Connections closed, by reason");
    }
  }
};

ConnMetrics& conn_metrics() {
  static ConnMetrics m;
  return m;
}

}  // namespace

Loop::Loop(int index, const LoopOptions& options, LoopGroup* group)
    : index_(index),
      options_(options),
      group_(group),
      now_ms_(monotonic_ms()),
      timers_(now_ms_),
      recv_buf_(options.receive_buffer_bytes) {
  conn_metrics();  // register the metrics before any thread runs
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  eventfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || eventfd_ < 0)
    throw std::runtime_error("epoll/eventfd: " + std::string(strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kMailboxTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev);
}

Loop::~Loop() {
  for (Connection* c : connections_)
    delete c;
  for (Connection* c : graveyard_)
    delete c;
  for (auto& l : listeners_) {
    if (l->fd >= 0) ::close(l->fd);
  }
  ::close(eventfd_);
  ::close(epfd_);
}

void Loop::refresh_clock() {
  now_ms_ = monotonic_ms();
}

void Loop::post(Task task) {
  bool was_empty;
  {
    std::lock_guard lock(mailbox_mu_);
    was_empty = mailbox_.empty();
    mailbox_.push_back(std::move(task));
  }
  // One eventfd write per burst: later posts find the queue non-empty and the loop already woken.
  if (was_empty) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(eventfd_, &one, sizeof(one));
  }
}

void Loop::defer(Task task) {
  deferred_.push_back(std::move(task));
}

void Loop::drain_mailbox() {
  uint64_t v;
  [[maybe_unused]] ssize_t r = ::read(eventfd_, &v, sizeof(v));
  {
    std::lock_guard lock(mailbox_mu_);
    mailbox_work_.swap(mailbox_);
  }
  for (Task& t : mailbox_work_)
    t();
  mailbox_work_.clear();
}

void Loop::add_listener(int fd, HandlerFactory factory) {
  auto l = std::make_unique<Listener>(Listener{fd, std::move(factory)});
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = (static_cast<uint64_t>(listeners_.size()) << 2) | kListenerBit;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  listeners_.push_back(std::move(l));
}

void Loop::pause_listener(Listener& l) {
  if (l.paused || l.fd < 0) return;
  l.paused = true;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, l.fd, nullptr);
}

void Loop::on_accept_error(int err) {
  // Out of descriptors (or kernel memory): the pending connection stays in the backlog and a
  // level-triggered listener would wake us forever. Stop listening for a moment instead.
  conn_metrics().accept_errors.inc();
  SB_LOG_WARN("loop {}: accept failed ({}); pausing accepts for {} ms", index_, strerror(err),
              kAcceptBackoffMs);
  for (auto& l : listeners_)
    pause_listener(*l);
  timers_.arm(accept_backoff_, kAcceptBackoffMs, [this] {
    if (shutting_down_) return;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      Listener* l = listeners_[i].get();
      if (!l->paused || l->fd < 0) continue;
      l->paused = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = (static_cast<uint64_t>(i) << 2) | kListenerBit;
      epoll_ctl(epfd_, EPOLL_CTL_ADD, l->fd, &ev);
    }
  });
}

void Loop::accept_from(Listener& l) {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd =
        ::accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      on_accept_error(errno);
      return;
    }
    if (shutting_down_ || (group_ != nullptr && !group_->try_admit())) {
      conn_metrics().rejected.inc();
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Connection* c = adopt(fd, peer, nullptr);
    c->admitted_ = true;
    if (l.factory) c->handler_ = l.factory(*c);
    conn_metrics().accepted.inc();
  }
}

Connection* Loop::adopt(int fd, const sockaddr_storage& peer,
                        std::unique_ptr<ConnectionHandler> h) {
  uint64_t id = (static_cast<uint64_t>(index_) << 48) | next_conn_seq_++;
  if (options_.rx_timestamps) {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
      SB_LOG_WARN("loop {}: SO_TIMESTAMPNS: {}; receive times will be missing", index_,
                  strerror(errno));
    }
  }
  auto* c = new Connection(*this, fd, id, peer);
  c->slot_ = static_cast<uint32_t>(connections_.size());
  connections_.push_back(c);
  c->handler_ = std::move(h);
  conn_metrics().active.add(1);
  epoll_set(*c, EPOLLIN | EPOLLRDHUP, true);
  note_churn();
  return c;
}

// Why trim: a handshake allocates and frees transient memory (the HTTP session, parse buffers,
// the first packets) between the allocations of the connections that stay. After a burst of
// thousands of handshakes, the freed chunks sit scattered between live ones, so the heap cannot
// shrink from its top and every freed page stays resident: ~300 bytes per connection measured
// after 19,000 connects. malloc_trim(0) hands the whole free pages inside the heap back
// (MADV_DONTNEED). It walks the heap (about a millisecond for tens of MB), so it runs only once
// a burst is over (no open or close for trim_quiet_ms), and at most every 10 s during a steady
// churn; a handful of connections coming and going never triggers it.
void Loop::note_churn() {
  ++churn_;
  if (options_.trim_quiet_ms == 0 || trim_timer_.armed() || churn_ < kTrimMinChurn) return;
  churn_at_arm_ = churn_;
  if (burst_start_ms_ == 0) burst_start_ms_ = now_ms_;
  timers_.arm(trim_timer_, options_.trim_quiet_ms, [this] { on_trim_timer(); });
}

void Loop::on_trim_timer() {
  const bool still_busy = churn_ != churn_at_arm_;
  if (still_busy && now_ms_ - burst_start_ms_ < kTrimMaxDelayMs) {
    churn_at_arm_ = churn_;
    timers_.arm(trim_timer_, options_.trim_quiet_ms, [this] { on_trim_timer(); });
    return;
  }
#ifdef __GLIBC__
  if (kMallocIsGlibc) {
    const uint64_t t0 = monotonic_ms();
    const int released = malloc_trim(0);
    SB_LOG_DEBUG("loop {}: heap trimmed after {} connection opens/closes ({}, {} ms)", index_,
                 churn_, released != 0 ? "memory released" : "nothing to release",
                 monotonic_ms() - t0);
  }
#endif
  ++trims_;
  churn_ = 0;
  burst_start_ms_ = 0;
}

void Loop::epoll_set(Connection& c, uint32_t events, bool add) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  epoll_ctl(epfd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd_, &ev);
}

void Loop::retire(Connection* c) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd_, nullptr);
  ::close(c->fd_);
  c->fd_ = -1;
  Connection* last = connections_.back();
  last->slot_ = c->slot_;
  connections_[c->slot_] = last;
  connections_.pop_back();
  conn_metrics().active.add(-1);
  conn_metrics().closed[static_cast<size_t>(c->close_reason_)]->inc();
  note_churn();
  if (group_ != nullptr && c->admitted_) group_->release_admission();
  graveyard_.push_back(c);
}

// The peers that woke us are flushed before the connections we only wrote to: a request's
// answer (or a sender's own copy of its broadcast) leaves first, so the next request arrives
// while the rest of the turn's output is still being sent, and the next turn finds more work
// to batch into each connection's single sendmsg. Flushing a connection with nothing queued
// costs no syscall.
void Loop::put_readers_first(const epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = events[i].data.u64;
    if (tag == kMailboxTag || (tag & kListenerBit) || !(events[i].events & EPOLLIN)) continue;
    auto* c = static_cast<Connection*>(events[i].data.ptr);
    if (c->state_ == Connection::State::kOpen && !c->dirty_) {
      c->dirty_ = true;
      dirty_.push_back(c);
    }
  }
}

void Loop::run() {
  metrics::set_thread_slot(index_ + 1);
  std::array<epoll_event, kMaxEvents> events;
  refresh_clock();
  while (!stop_.load(std::memory_order_relaxed)) {
    // Work left over from a busy turn (see end_of_turn) means: don't sleep.
    int timeout = (deferred_.empty() && dirty_.empty() && closing_.empty())
                      ? timers_.next_timeout_ms(now_ms_)
                      : 0;
    int n = epoll_wait(epfd_, events.data(), kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      SB_LOG_ERROR("loop {}: epoll_wait: {}", index_, strerror(errno));
      break;
    }
    refresh_clock();
    // Advance first: a timer armed while handling these events then counts from now, not from
    // before a long idle wait.
    timers_.advance(now_ms_);
    put_readers_first(events.data(), n);
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      const uint32_t ev = events[i].events;
      if (tag == kMailboxTag) {
        drain_mailbox();
      } else if (tag & kListenerBit) {
        accept_from(*listeners_[tag >> 2]);
      } else {
        auto* c = static_cast<Connection*>(events[i].data.ptr);
        if (c->state_ == Connection::State::kDead) continue;  // closed earlier in this batch
        if (ev & EPOLLERR) {
          c->abort(CloseReason::kIoError);
          continue;
        }
        if ((ev & EPOLLHUP) && c->reading_paused_ && c->state_ == Connection::State::kOpen) {
          // Both directions are gone; a paused connection would otherwise be woken forever.
          c->abort(CloseReason::kPeerClosed);
          continue;
        }
        if (ev & EPOLLOUT) c->on_writable();
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) c->on_readable();
        if ((ev & EPOLLHUP) && c->state_ == Connection::State::kClosing) {
          c->abort(c->close_reason_);  // nobody left to read what we still had queued
        }
      }
    }
    end_of_turn();
    if (shutting_down_ && connections_.empty()) break;
  }
}

void Loop::end_of_turn() {
  // Deferred work and closes can write to other connections, and flushes can close connections
  // (a peer reset, a queue overflow): repeat until nothing is left, bounded for fairness.
  for (int round = 0; round < 8; ++round) {
    for (size_t i = 0; i < deferred_.size(); ++i) {
      Task t = std::move(deferred_[i]);
      t();
    }
    deferred_.clear();
    for (size_t i = 0; i < closing_.size(); ++i)
      closing_[i]->finish_close();
    closing_.clear();
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Connection* c = dirty_[i];
      c->dirty_ = false;
      if (c->state_ == Connection::State::kOpen || c->state_ == Connection::State::kClosing) {
        c->flush();
      }
    }
    dirty_.clear();
    if (closing_.empty() && deferred_.empty()) break;
  }
  // Every close decided this turn gets its on_close now, even past the round limit: a connection
  // is never freed while a callback for it is still owed.
  for (size_t i = 0; i < closing_.size(); ++i)
    closing_[i]->finish_close();
  closing_.clear();
  dead_handlers_.clear();
  // A dead connection still referenced by this turn's lists (dirty, or a queued re-offer of its
  // input) waits one more turn.
  size_t keep = 0;
  for (Connection* c : graveyard_) {
    if (c->dirty_ || c->redeliver_pending_) {
      graveyard_[keep++] = c;
    } else {
      delete c;
    }
  }
  graveyard_.resize(keep);
}

void Loop::stop() {
  stop_.store(true, std::memory_order_relaxed);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(eventfd_, &one, sizeof(one));
}

void Loop::begin_shutdown(uint32_t timeout_ms) {
  post([this, timeout_ms] {
    if (shutting_down_) return;
    shutting_down_ = true;
    for (auto& l : listeners_) {
      pause_listener(*l);
      ::close(l->fd);
      l->fd = -1;
    }
    accept_backoff_.cancel();
    std::vector<Connection*> all = connections_;
    for (Connection* c : all) {
      if (c->state_ != Connection::State::kOpen) continue;
      if (c->handler_) {
        c->handler_->on_shutdown(*c);
      } else {
        c->close(CloseReason::kShutdown);
      }
    }
    timers_.arm(shutdown_timer_, timeout_ms, [this] {
      SB_LOG_WARN("loop {}: shutdown timeout, aborting {} connections", index_,
                  connections_.size());
      std::vector<Connection*> rest = connections_;
      for (Connection* c : rest)
        c->abort(CloseReason::kShutdown);
    });
  });
}

}  // namespace sb::net
