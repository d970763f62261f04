#include "net/connection.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/metrics.h"
#include "net/loop.h"

namespace sb::net {
namespace {

// Small writes are gathered into blocks of this size; a block is one iovec entry.
constexpr size_t kBlockBytes = 4096;
// Writes below this size are copied into the tail block even when given as a shared buffer:
// copying a few bytes is cheaper than another iovec entry and a reference.
constexpr size_t kCopyBelow = 64;
// iovec entries per sendmsg; IOV_MAX is 1024 on Linux, beyond 64 the gain is nil.
constexpr size_t kMaxIov = 64;

// Syscall accounting: the corking claim (one sendmsg per connection per turn) is checked by tests
// and benchmarks against these.
metrics::Counter& send_calls() {
  static metrics::Counter c("sb_net_send_calls_total", "sendmsg() calls");
  return c;
}

// glibc's send()/sendmsg() are pthread cancellation points: each call switches asynchronous
// cancellation on and off around the syscall (about a third of the user-space cost of a send).
// Loop threads are never cancelled, so the plain syscall does the same work without that.
ssize_t sys_send(int fd, const void* buf, size_t len, int flags) {
  return ::syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
}
ssize_t sys_sendmsg(int fd, const msghdr* msg, int flags) {
  return ::syscall(SYS_sendmsg, fd, msg, flags);
}

}  // namespace

std::string_view close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::kPeerClosed:
      return "peer_closed";
    case CloseReason::kLocal:
      return "local";
    case CloseReason::kIoError:
      return "io_error";
    case CloseReason::kOutboundOverflow:
      return "outbound_overflow";
    case CloseReason::kReceiveOverflow:
      return "receive_overflow";
    case CloseReason::kTimeout:
      return "timeout";
    case CloseReason::kShutdown:
      return "shutdown";
    case CloseReason::kProtocolError:
      return "protocol_error";
    case CloseReason::kConnectionLimit:
      return "connection_limit";
  }
  return "unknown";
}

void ConnectionHandler::on_shutdown(Connection& c) {
  c.close(CloseReason::kShutdown);
}

Connection::Connection(Loop& loop, int fd, uint64_t id, const sockaddr_storage& peer)
    : loop_(loop), id_(id), fd_(fd) {
  set_peer(peer);
}

void Connection::set_peer(const sockaddr_storage& peer) {
  peer_.family = peer.ss_family;
  if (peer.ss_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, &peer, sizeof(v4));
    peer_.port = v4.sin_port;
    std::memcpy(peer_.addr, &v4.sin_addr, sizeof(v4.sin_addr));
  } else if (peer.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &peer, sizeof(v6));
    peer_.port = v6.sin6_port;
    peer_.scope_id = v6.sin6_scope_id;
    std::memcpy(peer_.addr, &v6.sin6_addr, sizeof(v6.sin6_addr));
  }
}

sockaddr_storage Connection::peer() const {
  sockaddr_storage out{};
  out.ss_family = peer_.family;
  if (peer_.family == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = peer_.port;
    std::memcpy(&v4.sin_addr, peer_.addr, sizeof(v4.sin_addr));
    std::memcpy(&out, &v4, sizeof(v4));
  } else if (peer_.family == AF_INET6) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = peer_.port;
    v6.sin6_scope_id = peer_.scope_id;
    std::memcpy(&v6.sin6_addr, peer_.addr, sizeof(v6.sin6_addr));
    std::memcpy(&out, &v6, sizeof(v6));
  }
  return out;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Connection::peer_ip() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (peer_.family == AF_INET || peer_.family == AF_INET6) {
    inet_ntop(peer_.family, peer_.addr, buf, sizeof(buf));
  }
  return buf;
}

bool Connection::above_high_watermark() const {
  return queued_ > loop_.options().high_watermark;
}

void Connection::mark_dirty() {
  if (!dirty_) {
    dirty_ = true;
    loop_.dirty_.push_back(this);
  }
  const LoopOptions& o = loop_.options();
  // One compare on the common path; either limit may be the lower one (options are free).
  if (queued_ > std::min(o.high_watermark, o.max_outbound_bytes)) [[unlikely]] {
    if (queued_ > o.high_watermark) above_high_ = true;
    if (queued_ > o.max_outbound_bytes && !doomed_) over_limit();
  }
}

// Kept out of line: the per-write path above stays a few instructions with no spills.
void Connection::over_limit() {
  // Over the limit: first let the kernel take what it can right now (rare path, so a syscall
  // here is fine). If the queue is still over, the reader is too slow: the connection is doomed,
  // later writes are dropped, and the end of the turn aborts it. Not closed here: the caller may
  // be iterating a member list, and on_close must run when no such iteration is under way.
  if (send_queued() == SendResult::kError) return;
  if (queued_ > loop_.options().max_outbound_bytes) {
    doomed_ = true;
    SB_LOG_WARN("connection {} from {} closed: outbound queue {} bytes over limit {}", id_,
                peer_ip(), queued_, loop_.options().max_outbound_bytes);
    drop_queue();
  }
}

std::span<uint8_t> Connection::reserve(size_t n) {
  if (state_ != State::kOpen || doomed_) return {};  // nothing more will be sent
  if (qhead_ < queue_.size()) {
    Chunk& tail = queue_.back();
    if (tail.buf.exclusive() && tail.offset + tail.length == tail.buf.size() &&
        tail.buf.capacity() - tail.buf.size() >= n) {
      return {tail.buf.mutable_data() + tail.buf.size(), tail.buf.capacity() - tail.buf.size()};
    }
  }
  auto block = SharedBuffer::with_capacity(std::max(n, kBlockBytes));
  uint8_t* p = block.mutable_data();
  size_t cap = block.capacity();
  queue_.emplace_back(std::move(block), 0, 0);
  return {p, cap};
}

void Connection::commit(size_t n) {
  if (n == 0 || state_ != State::kOpen || doomed_) return;
  Chunk& tail = queue_.back();
  tail.buf.set_size(tail.buf.size() + n);
  tail.length += static_cast<uint32_t>(n);
  queued_ += n;
  mark_dirty();
}

void Connection::write(std::string_view bytes) {
  if (state_ != State::kOpen || doomed_ || bytes.empty()) return;
  while (!bytes.empty()) {
    auto space = reserve(std::min(bytes.size(), kBlockBytes));
    if (space.empty()) return;  // doomed by the outbound limit: the rest is dropped
    size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    commit(n);
    bytes.remove_prefix(n);
  }
}

void Connection::write(const SharedBuffer& buf, size_t offset, size_t length) {
  if (state_ != State::kOpen || doomed_ || length == 0) return;
  if (length < kCopyBelow) {
    write(std::string_view(reinterpret_cast<const char*>(buf.data()) + offset, length));
    return;
  }
  queue_.emplace_back(buf, static_cast<uint32_t>(offset), static_cast<uint32_t>(length));
  queued_ += length;
  // mark_dirty() inlined for the broadcast path: this runs once per receiver.
  const LoopOptions& o = loop_.options();
  if (dirty_ && queued_ <= std::min(o.high_watermark, o.max_outbound_bytes)) [[likely]]
    return;
  mark_dirty();
}

void Connection::drop_queue() {
  queue_.clear();
  qhead_ = 0;
  queued_ = 0;
}

Connection::SendResult Connection::send_queued() {
  SendResult result = SendResult::kDrained;
  size_t head = qhead_;
  const size_t end = queue_.size();
  while (head < end) {
    std::array<iovec, kMaxIov> iov;
    size_t n = 0;
    size_t batch = 0;
    for (size_t i = head; i < end && n < kMaxIov; ++i, ++n) {
      const Chunk& c = queue_[i];
      iov[n].iov_base = const_cast<uint8_t*>(c.buf.data()) + c.offset;
      iov[n].iov_len = c.length;
      batch += c.length;
    }
    ssize_t sent = 0;
    if (n == 1) {
      // One chunk (a lone reply, a quiet broadcast): send() spares the kernel the msghdr and
      // iovec copies.
      sent = sys_send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = n;
      sent = sys_sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    send_calls().inc();
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        result = SendResult::kBlocked;
        break;
      }
      qhead_ = static_cast<uint32_t>(head);
      abort(CloseReason::kIoError);
      return SendResult::kError;
    }
    size_t left = static_cast<size_t>(sent);
    queued_ -= left;
    // Pop what was sent, empty chunks included (a reserve() never committed leaves one).
    while (head < end) {
      Chunk& c = queue_[head];
      if (left < c.length) {
        c.offset += static_cast<uint32_t>(left);
        c.length -= static_cast<uint32_t>(left);
        break;
      }
      left -= c.length;
      c.buf.release();
      ++head;
    }
    if (static_cast<size_t>(sent) < batch) {  // short write: the kernel buffer is full
      result = SendResult::kBlocked;
      break;
    }
  }
  qhead_ = static_cast<uint32_t>(head);
  if (qhead_ == queue_.size()) {
    queue_.clear();
    qhead_ = 0;
    // An idle connection keeps no outbound memory.
    if (queue_.capacity() > 16) queue_.release_storage();
  } else if (qhead_ > 64 && qhead_ * 2 > queue_.size()) {
    queue_.erase_front(qhead_);
    qhead_ = 0;
  }
  return result;
}

bool Connection::flush() {
  if (doomed_ && state_ == State::kOpen) {
    abort(CloseReason::kOutboundOverflow);
    return false;
  }
  if (send_queued() == SendResult::kError) return false;
  bool pending = qhead_ < queue_.size();
  if (pending != want_write_) {
    want_write_ = pending;
    update_events();
  }
  if (above_high_ && queued_ <= loop_.options().low_watermark) {
    above_high_ = false;
    if (handler_ && state_ == State::kOpen) handler_->on_drain(*this);
  }
  if (!pending && state_ == State::kClosing) {
    // Everything we had to say is out: half-close and read until the peer closes too, so that a
    // client still sending does not make the kernel reset away our final response.
    ::shutdown(fd_, SHUT_WR);
    state_ = State::kLingering;
    reading_paused_ = false;
    update_events();
    if (!timers_) timers_ = std::make_unique<Timers>();
    loop_.timers().arm(timers_->linger, loop_.options().linger_ms,
                       [this] { begin_close(close_reason_, false); });
  }
  return true;
}

void Connection::update_events() {
  if (state_ == State::kDead) return;
  uint32_t ev = 0;
  if (!reading_paused_) ev |= EPOLLIN | EPOLLRDHUP;
  if (want_write_) ev |= EPOLLOUT;
  loop_.epoll_set(*this, ev, false);
}

void Connection::pause_reading() {
  if (reading_paused_ || state_ != State::kOpen) return;
  reading_paused_ = true;
  update_events();
}

void Connection::resume_reading() {
  if (!reading_paused_ || state_ != State::kOpen) return;
  reading_paused_ = false;
  update_events();
  // Bytes that arrived while paused and were not consumed (a pipelined request behind a deferred
  // answer) would otherwise wait for the next packet, which may never come: offer them again.
  if (has_spill() && !redeliver_pending_) {
    redeliver_pending_ = true;
    loop_.defer([this] {
      redeliver_pending_ = false;
      loop_.rx_time_ns_ = 0;  // not from a read: no receive time
      if (state_ == State::kOpen && !reading_paused_ && has_spill()) deliver_spill();
    });
  }
}

void Connection::set_handler(std::unique_ptr<ConnectionHandler> h) {
  if (handler_) loop_.dead_handlers_.push_back(std::move(handler_));
  handler_ = std::move(h);
  handler_replaced_ = true;
  // The new handler starts without a timer; one the old handler left armed stays (it may still
  // have to fire), an idle one is freed: an idle upgraded connection holds none.
  if (timers_ && !timers_->handler.armed() && !timers_->linger.armed()) timers_.reset();
}

void Connection::close(CloseReason reason) {
  begin_close(reason, true);
}

void Connection::abort(CloseReason reason) {
  begin_close(reason, false);
}

void Connection::begin_close(CloseReason reason, bool graceful) {
  if (state_ == State::kDead) return;
  if (state_ == State::kOpen) {
    close_reason_ = reason;
    if (!close_queued_) {
      close_queued_ = true;
      loop_.closing_.push_back(this);
    }
  }
  if (graceful && state_ == State::kOpen) {
    state_ = State::kClosing;
    reading_paused_ = true;
    update_events();
    if (!dirty_) {
      dirty_ = true;
      loop_.dirty_.push_back(this);
    }
    return;
  }
  if (!graceful) {
    state_ = State::kDead;
    drop_queue();
    if (timers_) {
      timers_->handler.cancel();
      timers_->linger.cancel();
    }
    loop_.retire(this);
  }
}

void Connection::finish_close() {
  // The handler learns of the close once, at the end of the turn, then it is destroyed.
  close_queued_ = false;
  if (timers_) timers_->handler.cancel();
  if (handler_) {
    handler_->on_close(*this, close_reason_);
    loop_.dead_handlers_.push_back(std::move(handler_));
  }
}

void Connection::deliver(std::span<uint8_t> data, size_t& consumed) {
  // A handler may hand the connection to a new handler mid-buffer (an HTTP upgrade followed by
  // the first WebSocket frame in the same packet): offer the rest to the new handler.
  consumed = 0;
  while (state_ == State::kOpen && handler_) {
    handler_replaced_ = false;
    size_t n = handler_->on_data(*this, data.subspan(consumed));
    consumed += std::min(n, data.size() - consumed);
    if (!handler_replaced_ || consumed == data.size()) break;
  }
}

void Connection::on_readable() {
  if (state_ == State::kLingering) {
    uint8_t* buf = loop_.recv_buf_.data();
    ssize_t n = ::recv(fd_, buf, loop_.recv_buf_.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) begin_close(close_reason_, false);
    return;
  }
  if (state_ != State::kOpen || reading_paused_) return;
  ssize_t n = loop_.options_.rx_timestamps
                  ? receive_stamped()
                  : ::recv(fd_, loop_.recv_buf_.data(), loop_.recv_buf_.size(), MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    abort(CloseReason::kIoError);
    return;
  }
  if (n == 0) {
    close(CloseReason::kPeerClosed);
    return;
  }
  size_t consumed = 0;
  if (!has_spill()) {
    std::span<uint8_t> data(loop_.recv_buf_.data(), static_cast<size_t>(n));
    deliver(data, consumed);
    if (state_ == State::kOpen && consumed < data.size()) {
      if (!spill_) spill_ = std::make_unique<std::vector<uint8_t>>();
      spill_->assign(data.begin() + static_cast<std::ptrdiff_t>(consumed), data.end());
    }
  } else {
    // A partial frame or request is waiting: append so it is parsed contiguously.
    spill_->insert(spill_->end(), loop_.recv_buf_.data(), loop_.recv_buf_.data() + n);
    deliver_spill();
  }
  if (spill_ && spill_->size() > loop_.options().max_spill_bytes) {
    SB_LOG_WARN("connection {} from {} closed: {} unconsumed input bytes", id_, peer_ip(),
                spill_->size());
    abort(CloseReason::kReceiveOverflow);
  }
  loop_.rx_time_ns_ = 0;  // belongs to this read only
}

ssize_t Connection::receive_stamped() {
  iovec iov{loop_.recv_buf_.data(), loop_.recv_buf_.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
  loop_.rx_time_ns_ = 0;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); n > 0 && cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS ||
        cm->cmsg_len < CMSG_LEN(sizeof(timespec)))
      continue;
    timespec rx{};
    std::memcpy(&rx, CMSG_DATA(cm), sizeof(rx));
    // The kernel stamps with CLOCK_REALTIME; move it onto CLOCK_MONOTONIC through the current
    // offset between the two (a step of the wall clock in between would skew one reading).
    timespec real{};
    timespec mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    const auto ns = [](const timespec& t) {
      return static_cast<int64_t>(t.tv_sec) * 1000000000 + static_cast<int64_t>(t.tv_nsec);
    };
    const int64_t at = ns(rx) - ns(real) + ns(mono);
    loop_.rx_time_ns_ = at > 0 ? static_cast<uint64_t>(at) : 0;
  }
  return n;
}

void Connection::deliver_spill() {
  size_t consumed = 0;
  std::vector<uint8_t>& spill = *spill_;
  deliver(std::span<uint8_t>(spill), consumed);
  if (state_ != State::kOpen || consumed == spill.size()) {
    spill_.reset();  // an idle connection holds no input buffer
  } else if (consumed > 0) {
    spill.erase(spill.begin(), spill.begin() + static_cast<std::ptrdiff_t>(consumed));
  }
}

void Connection::on_writable() {
  if (state_ == State::kOpen || state_ == State::kClosing) flush();
}

}  // namespace sb::net
