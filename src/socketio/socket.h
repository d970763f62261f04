#pragma once
// A Socket.IO socket: one client connected to one namespace (Node's `Socket`). It lives on its
// client's loop and is only touched there. Application code gets a Socket& in connection
// handlers and middleware; a reference must not be kept past the socket's `disconnect` event
// (the object is freed at the end of that loop turn). Deferred work (an ack answered later,
// an async middleware) holds a SocketRef — namespace, loop and id — and finds the socket again,
// or finds it gone.

#include <any>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/slab_pool.h"
#include "net/timer_wheel.h"
#include "socketio/args.h"
#include "socketio/handler_table.h"
#include "socketio/json.h"
#include "socketio/packet.h"

namespace sb::engineio {
struct HandshakeInfo;
}

namespace sb::socketio {

class Client;
class Namespace;
class Socket;
class BroadcastOperator;

/// Finds a socket again later, on its loop (nullptr once it is gone).
struct SocketRef {
  Namespace* nsp = nullptr;
  int loop = -1;
  std::string id;
  Socket* get() const;
};

/// A middleware rejection, sent as CONNECT_ERROR `{"message":…,"data":…}`.
struct ConnectError {
  std::string message;
  std::string data_json;  // raw JSON; empty: no `data` member
};

/// The continuation a middleware calls, now or later on the same loop: `next()` to go on,
/// `next(ConnectError{...})` to refuse. Calls after the first, or after the client left, do
/// nothing.
class Next {
 public:
  Next(SocketRef ref, size_t index) : ref_(std::move(ref)), index_(index) {}
  void operator()() const;
  void operator()(const ConnectError& err) const;

 private:
  SocketRef ref_;
  size_t index_;
};

struct PacketRun;

/// The continuation of a per-socket packet middleware (Socket::use), called now or later on
/// the socket's loop: `next()` passes the event on, `next(message[, data_json])` refuses it —
/// the event is dropped and the socket's own "error" listener (not the client) gets
/// `{"message":…[,"data":…]}`, as Node emits `error` on the server-side socket. Calls after
/// the first, or after the socket left, do nothing.
class PacketNext {
 public:
  PacketNext(std::shared_ptr<PacketRun> run, size_t index) : run_(std::move(run)), index_(index) {}
  void operator()() const;
  void operator()(std::string_view message, std::string_view data_json = {}) const;

 private:
  std::shared_ptr<PacketRun> run_;
  size_t index_;
};

/// The acknowledgement callback of an incoming event: call it (once) with the reply arguments.
/// Calling it when the client asked for no ack, or after it left, does nothing.
class Ack {
 public:
  Ack() = default;
  Ack(SocketRef ref, std::optional<uint64_t> id) : ref_(std::move(ref)), id_(id) {}
  bool requested() const { return id_.has_value(); }
  void send(std::span<const Json> args) const;
  void operator()(std::initializer_list<Json> args) const { send(args); }
  void operator()() const { send({}); }

 private:
  SocketRef ref_;
  std::optional<uint64_t> id_;
};

/// The reply to emit_with_ack: `error` is empty on success, else "operation has timed out" or
/// "socket has been disconnected" (args then empty).
using AckCallback = std::function<void(std::string_view error, const Args& args)>;
using ReasonHandler = std::function<void(std::string_view reason)>;
/// Node's socket.use((packet, next) => …): `event` and `args` are the incoming event (valid
/// during the call; keep `args.owned()` to read them after it).
using PacketMiddleware =
    std::function<void(std::string_view event, const Args& args, PacketNext next)>;

class Socket : public slab::SlabAllocated {
 public:
  Socket(Namespace& nsp, Client& client, std::string id, std::string_view auth_json);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  /// The Socket.IO id (distinct from the Engine.IO sid); also the name of its own room. Held
  /// in the socket itself (no allocation): the view is valid as long as the socket.
  std::string_view id() const { return {id_.data(), id_len_}; }
  Namespace& nsp() const { return nsp_; }
  Client& client() const { return client_; }
  int loop() const;
  bool connected() const { return state_ == State::kConnected; }
  /// The CONNECT payload (the client's `auth` option), `{}` when absent.
  Args auth() const {
    return Args(rare_ && !rare_->auth_json.empty() ? std::string_view(rare_->auth_json) : "{}");
  }
  const engineio::HandshakeInfo* handshake() const;
  SocketRef ref() const;

  // --- listeners ---
  /// Listens to `event` with `f(const Args&, Ack)` (or `f(const Args&)`, for handlers that
  /// take no ack). One handler per event: a later on() for the same event replaces it, in its
  /// place. Sockets that register equal handlers in the same order share one table of them
  /// (handler_table.h): a small, trivially copyable, const-callable `f` — a lambda capturing
  /// `&io`, or nothing — costs an idle socket nothing; any other `f` is kept per socket.
  template <typename F>
  requires std::is_invocable_v<F&, const Args&, Ack>
  void on(std::string event, F f) {
    const HandlerKey key = HandlerKey::of<std::is_invocable_v<const F&, const Args&, Ack>>(f);
    set_handler(std::move(event), EventHandler(std::move(f)), key);
  }
  template <typename F>
  requires std::is_invocable_v<F&, const Args&> &&
      (!std::is_invocable_v<F&, const Args&, Ack>)void on(std::string event, F f) {
    const HandlerKey key = HandlerKey::of<std::is_invocable_v<const F&, const Args&>>(f);
    set_handler(std::move(event),
                EventHandler([f = std::move(f)](const Args& a, const Ack&) mutable { f(a); }), key);
  }
  /// The socket's handler table (null: no handler yet) — shared with other sockets when
  /// they registered the same handlers. For tests and diagnostics.
  const HandlerTable* handler_table() const { return handlers_.get(); }
  /// Every event that has no handler of its own (Node's onAny, but only as a fallback).
  void on_any(std::function<void(std::string_view event, const Args&, Ack)> h) {
    extras().any = std::move(h);
  }
  /// Adds a packet middleware (Node's socket.use): every incoming EVENT / BINARY_EVENT goes
  /// through the middlewares in the order they were added before its handler runs.
  void use(PacketMiddleware m) { extras().uses.push_back(std::move(m)); }
  void on_disconnecting(ReasonHandler h) { extras().on_disconnecting = std::move(h); }
  void on_disconnect(ReasonHandler h) { extras().on_disconnect = std::move(h); }

  // --- emitting to this client ---
  /// Makes the next emit volatile (Node's socket.volatile): it is dropped, not queued, when
  /// the client's transport cannot take it now (see Link::writable).
  // NOLINTNEXTLINE(readability-identifier-naming): `volatile` is a keyword
  Socket& volatile_() {
    volatile_next_ = true;
    return *this;
  }
  template <typename... A>
  void emit(std::string_view event, A&&... args) {
    const Json a[] = {Json(std::forward<A>(args))..., Json()};
    emit_args(event, std::span<const Json>(a, sizeof...(A)));
  }
  void emit_args(std::string_view event, std::span<const Json> args);
  /// Emits with an ack id; `cb` runs once: with the client's reply, or with an error after
  /// `timeout_ms` (0: no timeout — then it runs only if the client answers).
  void emit_with_ack(std::string_view event, std::span<const Json> args, uint32_t timeout_ms,
                     AckCallback cb);
  /// Sends an already encoded Socket.IO packet (text, then its attachments).
  void send_packet(std::string_view packet, std::span<const Bytes> attachments = {});

  // --- rooms (local to this socket's loop) ---
  void join(std::string_view room);
  void join(std::span<const std::string> rooms);
  void leave(std::string_view room);
  bool in(std::string_view room) const;
  /// The rooms joined, the socket's own room (its id) first, as Node's socket.rooms. The own
  /// room stays listed, and cannot be left (the adapter keeps it implicit: it always reaches
  /// this socket).
  class RoomList;
  RoomList rooms() const;

  /// Broadcast to others (Node's socket.to(): every target but this socket).
  BroadcastOperator to(std::string_view room) const;
  BroadcastOperator except(std::string_view room) const;
  BroadcastOperator broadcast() const;

  /// Leaves the namespace (`1[nsp,]` to the client, reason "server namespace disconnect");
  /// with `close`, every namespace of the client and then the connection.
  void disconnect(bool close = false);

  /// Free for the application (Node's socket.data).
  std::any data;

 private:
  friend class Client;
  friend class Namespace;
  friend class Next;
  friend class Ack;
  friend class InMemoryAdapter;
  friend class PacketNext;
  enum class State : uint8_t { kConnecting, kConnected, kDisconnected };
  struct PendingAck {
    AckCallback cb;        // a unicast emit_with_ack
    int origin_loop = -1;  // a broadcast with ack: where its collector lives
    uint64_t collector = 0;
    bool has_timeout = false;
    net::Timer timer;
  };

  // Called by the client / namespace.
  void on_connected();
  void on_packet(const Packet& p);
  /// Runs the disconnect sequence; the client frees the object at the end of the turn.
  void on_close(std::string_view reason);
  void on_event(const Packet& p);
  /// Runs the packet middlewares from run->index on; dispatches when they all passed.
  void run_uses(const std::shared_ptr<PacketRun>& run);
  void dispatch(const std::string& event, const Args& args, std::optional<uint64_t> id);
  /// A packet middleware refused an event: the socket's "error" listener hears it.
  void emit_local_error(std::string_view message, std::string_view data_json);
  /// True (and the volatile flag consumed) when the next emit must be dropped.
  bool drop_volatile();
  void on_ack(const Packet& p);
  void register_broadcast_ack(uint64_t id, int origin_loop, uint64_t collector);
  void send_ack(uint64_t id, std::span<const Json> args);

  // Laid out for idle memory: an idle socket is this object alone (88 bytes).
  Namespace& nsp_;
  Client& client_;
  // The id, in place: ids are 20 characters (engineio::kSidLength), past std::string's
  // inline capacity, so a string cost a 32-byte allocation besides its 32 bytes here.
  static constexpr size_t kIdCapacity = 20;
  std::array<char, kIdCapacity> id_{};
  uint32_t mark_ = 0;              // broadcast selection stamp (InMemoryAdapter), loop-local
  uint16_t middleware_index_ = 0;  // the middleware whose next() is awaited (Namespace::use)
  uint8_t id_len_ = 0;
  State state_ = State::kConnecting;
  // Set by volatile_(), consumed by the next emit — or by to()/broadcast(), which are const
  // like Node's getters but move the flag into the operator they return.
  mutable bool volatile_next_ = false;
  // What an idle socket of most apps does not have: rooms joined besides its own, and a
  // CONNECT payload other than `{}`. Allocated when first needed.
  struct Rare {
    std::vector<std::string> rooms;  // joined rooms, in order (the own room is implicit)
    std::string auth_json;           // empty: `{}`
  };
  Rare& rare() {
    if (!rare_) rare_ = std::make_unique<Rare>();
    return *rare_;
  }
  std::unique_ptr<Rare> rare_;
  // The event handlers: one pointer to a table shared with the other sockets that registered
  // the same ones (handler_table.h); null while there are none.
  HandlerRef handlers_;
  void set_handler(std::string event, EventHandler h, const HandlerKey& key);
  // What many sockets never use (a catch-all handler, packet middlewares, disconnect
  // listeners, acks awaited): allocated on first use, so an idle socket of an app that uses
  // none of it carries one pointer instead of ~170 bytes.
  struct Extras {
    std::function<void(std::string_view, const Args&, Ack)> any;
    std::vector<PacketMiddleware> uses;
    ReasonHandler on_disconnecting;
    ReasonHandler on_disconnect;
    std::unordered_map<uint64_t, std::unique_ptr<PendingAck>> acks;
  };
  Extras& extras() {
    if (!extras_) extras_ = std::make_unique<Extras>();
    return *extras_;
  }
  std::unique_ptr<Extras> extras_;
};

/// Socket::rooms(): the own room (the id), then the rooms joined. Iterating yields
/// std::string values (the id is not stored as one); at() and the range's size() are free.
class Socket::RoomList {
 public:
  explicit RoomList(const Socket& s) : s_(&s) {}
  size_t size() const { return 1 + (s_->rare_ ? s_->rare_->rooms.size() : 0); }
  bool empty() const { return false; }
  /// Room `i` (0: the id); valid while the socket neither joins nor leaves.
  std::string_view at(size_t i) const {
    return i == 0 ? s_->id() : std::string_view(s_->rare_->rooms[i - 1]);
  }
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string;
    Iterator() = default;
    Iterator(const Socket* s, size_t i) : s_(s), i_(i) {}
    std::string operator*() const { return std::string(RoomList(*s_).at(i_)); }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++i_;
      return old;
    }
    friend bool operator==(const Iterator&, const Iterator&) = default;

   private:
    const Socket* s_ = nullptr;
    size_t i_ = 0;
  };
  Iterator begin() const { return {s_, 0}; }
  Iterator end() const { return {s_, size()}; }
  /// A copy, for code that keeps the list (fetchSockets, socket_rooms).
  operator std::vector<std::string>() const {  // NOLINT(google-explicit-constructor)
    std::vector<std::string> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i)
      out.emplace_back(at(i));
    return out;
  }

 private:
  const Socket* s_;
};

inline Socket::RoomList Socket::rooms() const {
  return RoomList(*this);
}

}  // namespace sb::socketio
