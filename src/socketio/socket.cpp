#include "socketio/socket.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "engineio/json_writer.h"
#include "engineio/socket.h"
#include "socketio/broadcast.h"
#include "socketio/client.h"
#include "socketio/encoder.h"
#include "socketio/namespace.h"
#include "socketio/server.h"
#include "socketio/sio_metrics.h"

namespace sb::socketio {

/// One incoming event on its way through a socket's packet middlewares (Socket::use). Shared
/// by the PacketNext handles of the chain, so a middleware may answer later; the arguments
/// are views into the decoder until a middleware goes asynchronous, then an owned copy.
struct PacketRun {
  SocketRef ref;
  std::string event;
  Args args;
  std::optional<uint64_t> id;
  size_t index = 0;       // the middleware whose next() is awaited
  bool in_call = false;   // that middleware is running (its next() only advances the index)
  bool advanced = false;  // its next() was called during the call
  bool owned = false;     // `args` owns its bytes
  bool finished = false;  // dispatched, refused, or the socket left
};
namespace {

// Encoding buffers reused per thread. A send can re-enter Socket.IO code (a send that closes
// the connection runs disconnect handlers, which may emit), so each encode takes its own
// buffers from a small free list instead of sharing one.
struct Buffers {
  std::string args;
  std::string packet;
  std::vector<Bytes> attachments;
};

class BufferLease {
 public:
  BufferLease() {
    if (!pool().empty()) {
      b_ = std::move(pool().back());
      pool().pop_back();
    }
    b_.args.clear();
    b_.packet.clear();
    b_.attachments.clear();
  }
  ~BufferLease() {
    // Keep the capacity of ordinary packets; let huge ones go.
    if (pool().size() < 4 && b_.packet.capacity() < (64u << 10)) pool().push_back(std::move(b_));
  }
  BufferLease(const BufferLease&) = delete;
  BufferLease& operator=(const BufferLease&) = delete;
  Buffers* operator->() { return &b_; }

 private:
  static std::vector<Buffers>& pool() {
    thread_local std::vector<Buffers> p;
    return p;
  }
  Buffers b_;
};

constexpr std::string_view kTimedOut = "operation has timed out";
constexpr std::string_view kDisconnected = "socket has been disconnected";

}  // namespace

Socket* SocketRef::get() const {
  if (nsp == nullptr || loop < 0) return nullptr;
  return nsp->find(loop, id);
}

void Next::operator()() const {
  if (ref_.nsp == nullptr) return;
  Socket* found = ref_.nsp->local(ref_.loop).sockets.find(ref_.id);
  if (found == nullptr) return;
  Socket& s = *found;
  if (s.state_ != Socket::State::kConnecting || s.middleware_index_ != index_) return;
  ref_.nsp->middleware_done(s, index_, nullptr);
}

void Next::operator()(const ConnectError& err) const {
  if (ref_.nsp == nullptr) return;
  Socket* found = ref_.nsp->local(ref_.loop).sockets.find(ref_.id);
  if (found == nullptr) return;
  Socket& s = *found;
  if (s.state_ != Socket::State::kConnecting || s.middleware_index_ != index_) return;
  ref_.nsp->middleware_done(s, index_, &err);
}

void PacketNext::operator()() const {
  PacketRun& r = *run_;
  if (r.finished || r.index != index_) return;
  ++r.index;
  if (r.in_call) {
    r.advanced = true;  // run_uses() goes on when the middleware returns
    return;
  }
  Socket* s = r.ref.get();
  if (s == nullptr) {
    r.finished = true;
    return;
  }
  s->run_uses(run_);
}

void PacketNext::operator()(std::string_view message, std::string_view data_json) const {
  PacketRun& r = *run_;
  if (r.finished || r.index != index_) return;
  r.finished = true;
  sio_metrics().middleware_errors.inc();
  if (Socket* s = r.ref.get()) s->emit_local_error(message, data_json);
}

void Ack::send(std::span<const Json> args) const {
  if (!id_) return;
  if (Socket* s = ref_.get()) s->send_ack(*id_, args);
}

Socket::Socket(Namespace& nsp, Client& client, std::string id, std::string_view auth_json)
    : nsp_(nsp), client_(client) {
  // Ids come from engineio::generate_sid (kIdCapacity characters); a longer one would be a
  // programming error, and is cut rather than overflowing.
  id_len_ = static_cast<uint8_t>(std::min(id.size(), kIdCapacity));
  std::copy_n(id.data(), id_len_, id_.data());
  if (!auth_json.empty() && auth_json != "{}") rare().auth_json = auth_json;
}

Socket::~Socket() = default;

int Socket::loop() const {
  return client_.loop();
}

const engineio::HandshakeInfo* Socket::handshake() const {
  return client_.handshake();
}

SocketRef Socket::ref() const {
  return SocketRef{&nsp_, loop(), std::string(id())};
}

void Socket::send_packet(std::string_view packet, std::span<const Bytes> attachments) {
  client_.send(packet, attachments);
}

bool Socket::drop_volatile() {
  if (!std::exchange(volatile_next_, false)) return false;
  if (client_.writable()) return false;
  sio_metrics().volatile_dropped.inc();
  return true;
}

void Socket::emit_args(std::string_view event, std::span<const Json> args) {
  if (!connected()) {
    volatile_next_ = false;
    return;
  }
  if (drop_volatile()) return;
  BufferLease b;
  encode_args(b->args, args, b->attachments);
  encode_event(b->packet, nsp_.name(), event, b->args, std::nullopt,
               static_cast<uint32_t>(b->attachments.size()));
  client_.send(b->packet, b->attachments);
}

void Socket::emit_with_ack(std::string_view event, std::span<const Json> args, uint32_t timeout_ms,
                           AckCallback cb) {
  if (!connected()) {
    volatile_next_ = false;
    if (cb && timeout_ms > 0) cb(kDisconnected, Args());
    return;
  }
  const uint64_t id = nsp_.next_ack_id();
  auto pending = std::make_unique<PendingAck>();
  pending->cb = std::move(cb);
  if (timeout_ms > 0) {
    pending->has_timeout = true;
    nsp_.server().loops().timers(loop()).arm(pending->timer, timeout_ms, [this, id] {
      auto& acks = extras().acks;
      auto it = acks.find(id);
      if (it == acks.end()) return;
      AckCallback f = std::move(it->second->cb);
      acks.erase(it);  // the wheel moved our callback out: destroying the timer is safe
      if (f) f(kTimedOut, Args());
    });
  }
  extras().acks[id] = std::move(pending);
  // As Node: the ack stays registered (its timeout still runs) when the packet is dropped.
  if (drop_volatile()) return;
  BufferLease b;
  encode_args(b->args, args, b->attachments);
  encode_event(b->packet, nsp_.name(), event, b->args, id,
               static_cast<uint32_t>(b->attachments.size()));
  client_.send(b->packet, b->attachments);
}

void Socket::send_ack(uint64_t id, std::span<const Json> args) {
  if (!connected()) return;
  BufferLease b;
  encode_args(b->args, args, b->attachments);
  encode_ack(b->packet, nsp_.name(), id, b->args, static_cast<uint32_t>(b->attachments.size()));
  client_.send(b->packet, b->attachments);
}

void Socket::register_broadcast_ack(uint64_t id, int origin_loop, uint64_t collector) {
  auto pending = std::make_unique<PendingAck>();
  pending->origin_loop = origin_loop;
  pending->collector = collector;
  extras().acks[id] = std::move(pending);
}

void Socket::join(std::string_view room) {
  if (state_ == State::kDisconnected || in(room)) return;
  std::vector<std::string>& rooms = rare().rooms;
  rooms.emplace_back(room);
  nsp_.adapter().add_all(*this, std::span<const std::string>(&rooms.back(), 1));
}

void Socket::join(std::span<const std::string> rooms) {
  for (const std::string& r : rooms)
    join(r);
}

void Socket::leave(std::string_view room) {
  if (!rare_) return;
  std::vector<std::string>& rooms = rare_->rooms;  // not the own room: it cannot be left
  auto it = std::find(rooms.begin(), rooms.end(), room);
  if (it == rooms.end()) return;
  nsp_.adapter().del(*this, room);
  rooms.erase(it);
}

bool Socket::in(std::string_view room) const {
  if (room == id()) return true;
  return rare_ && std::find(rare_->rooms.begin(), rare_->rooms.end(), room) != rare_->rooms.end();
}

BroadcastOperator Socket::to(std::string_view room) const {
  return broadcast().to(room);
}
BroadcastOperator Socket::except(std::string_view room) const {
  return broadcast().except(room);
}
BroadcastOperator Socket::broadcast() const {
  BroadcastOptions o;
  o.except.emplace_back(id());
  // socket.volatile_().to(room): the flag moves to the broadcast (Node copies socket.flags).
  o.flags.volatile_ = std::exchange(volatile_next_, false);
  return BroadcastOperator(nsp_, std::move(o));
}

void Socket::disconnect(bool close) {
  if (!connected()) return;
  if (close) {
    client_.disconnect_all_and_close();
    return;
  }
  BufferLease b;
  encode_disconnect(b->packet, nsp_.name());
  client_.send(b->packet);
  on_close("server namespace disconnect");
}

void Socket::on_connected() {
  state_ = State::kConnected;
  // Already in its own room (its id); the adapter keeps that room implicit.
  BufferLease b;
  encode_connect_reply(b->packet, nsp_.name(), id());
  client_.send(b->packet);
}

void Socket::on_packet(const Packet& p) {
  switch (p.type) {
    case PacketType::kEvent:
    case PacketType::kBinaryEvent:
      on_event(p);
      break;
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      on_ack(p);
      break;
    case PacketType::kDisconnect:
      on_close("client namespace disconnect");
      break;
    default:  // CONNECT / CONNECT_ERROR never reach a connected socket (Client filters them)
      break;
  }
}

void Socket::on_event(const Packet& p) {
  if (!extras_ || extras_->uses.empty()) {
    dispatch(p.event, Args(p.args, p.attachments), p.id);
    return;
  }
  auto run = std::make_shared<PacketRun>();
  run->ref = ref();
  run->event = p.event;
  run->args = Args(p.args, p.attachments);
  run->id = p.id;
  run_uses(run);
}

// Node's Socket#run: each middleware gets the packet and a next(); the handler runs after the
// last one passed it. A middleware that answers synchronously is followed in this loop (no
// recursion however many there are); one that answers later resumes the chain from its next().
void Socket::run_uses(const std::shared_ptr<PacketRun>& run) {
  while (!run->finished) {
    if (!extras_ || run->index >= extras_->uses.size()) {
      run->finished = true;
      if (connected()) dispatch(run->event, run->args, run->id);
      return;
    }
    const size_t i = run->index;
    const PacketMiddleware m = extras_->uses[i];  // a copy: the middleware may add others
    run->in_call = true;
    run->advanced = false;
    m(run->event, run->args, PacketNext(run, i));
    run->in_call = false;
    if (run->finished) return;
    if (!connected()) {
      run->finished = true;  // the middleware disconnected the socket
      return;
    }
    if (!run->advanced) {
      // It will answer later: the decoder's bytes will be gone by then.
      if (!run->owned) {
        run->args = run->args.owned();
        run->owned = true;
      }
      return;
    }
  }
}

void Socket::set_handler(std::string event, EventHandler h, const HandlerKey& key) {
  handlers_ =
      nsp_.local(loop()).handlers.set(std::move(handlers_), std::move(event), std::move(h), key);
}

void Socket::dispatch(const std::string& event, const Args& args, std::optional<uint64_t> id) {
  Ack ack = id ? Ack(ref(), id) : Ack();
  // Hold the table: the handler may replace itself (on() inside the handler), which then
  // moves this socket to another table, or copies ours rather than editing it under the call.
  const HandlerRef table = handlers_;
  if (const HandlerEntry* found = table.find(event)) {
    found->handler(args, std::move(ack));
  } else if (extras_ && extras_->any) {
    auto h = extras_->any;
    h(event, args, std::move(ack));
  }
}

void Socket::emit_local_error(std::string_view message, std::string_view data_json) {
  const HandlerRef table = handlers_;  // held during the call, as in dispatch()
  const HandlerEntry* found = table.find("error");
  if (found == nullptr) {
    SB_LOG_DEBUG("socket.io {}: event refused by a middleware ({}), no error listener", id(),
                 message);
    return;
  }
  std::string json = R"({"message":)";
  engineio::append_json_string(json, message);
  if (!data_json.empty()) {
    json += R"(,"data":)";
    json += data_json;
  }
  json += '}';
  found->handler(Args(json), Ack());
}

void Socket::on_ack(const Packet& p) {
  if (!p.id) return;
  if (!extras_) return;  // no ack awaited: unknown ids are ignored (Node)
  auto& acks = extras_->acks;
  auto it = acks.find(*p.id);
  if (it == acks.end()) return;  // unknown ids are ignored (Node)
  std::unique_ptr<PendingAck> pending = std::move(it->second);
  acks.erase(it);
  const Args args(p.args, p.attachments);
  if (pending->origin_loop >= 0) {
    std::string first(args.raw(0));
    if (first.empty()) first = "null";
    Adapter* adapter = &nsp_.adapter();
    const uint64_t collector = pending->collector;
    if (pending->origin_loop == loop()) {
      adapter->on_broadcast_ack(collector, std::move(first));
    } else {
      const int origin = pending->origin_loop;
      nsp_.server().loops().post(origin,
                                 [adapter, origin, collector, f = std::move(first)]() mutable {
                                   LoopScope scope(origin);
                                   adapter->on_broadcast_ack(collector, std::move(f));
                                 });
    }
    return;
  }
  if (pending->cb) pending->cb({}, args);
}

void Socket::on_close(std::string_view reason) {
  if (state_ == State::kDisconnected) return;
  const bool was_connected = state_ == State::kConnected;
  if (was_connected) sio_metrics().count_disconnect(reason);
  if (was_connected && extras_ && extras_->on_disconnecting) {
    const ReasonHandler h = extras_->on_disconnecting;  // a copy: it may replace itself
    h(reason);
  }
  nsp_.adapter().del_all(*this);
  if (rare_) rare_->rooms.clear();  // the own room stays
  nsp_.remove(*this);
  state_ = State::kDisconnected;
  // Acks that can no longer come: callbacks with a deadline learn it now rather than at the
  // deadline (their timer dies with the socket); the others are dropped, as in Node.
  decltype(Extras::acks) acks;
  if (extras_) {
    acks = std::move(extras_->acks);
    extras_->acks.clear();
  }
  for (auto& [id, pending] : acks)
    if (pending->cb && pending->has_timeout) pending->cb(kDisconnected, Args());
  client_.remove(*this);  // freed at the end of the turn: `this` stays valid until then
  if (was_connected && extras_ && extras_->on_disconnect) {
    const ReasonHandler h = extras_->on_disconnect;  // a copy: it may replace itself
    h(reason);
  }
}

}  // namespace sb::socketio
