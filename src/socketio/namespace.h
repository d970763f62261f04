#pragma once
// A namespace (Node's Namespace): its middleware chain, connection handlers, adapter, and the
// per-loop table of its sockets. Static namespaces are created by Server::of(name); a parent
// namespace (Server::of(predicate)) creates a child the first time a client connects to a
// matching name — the child runs the parent's middleware and connection handlers.
//
// Configuration (use, on_connection) is meant to happen before serving or on a loop thread
// before clients connect to the namespace; the handler lists are read without a lock.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/id_table.h"
#include "socketio/adapter.h"
#include "socketio/broadcast.h"
#include "socketio/handler_table.h"
#include "socketio/socket.h"

namespace sb::socketio {

class Server;

using Middleware = std::function<void(Socket& socket, Next next)>;
using ConnectionHandler = std::function<void(Socket& socket)>;
/// Decides whether a parent namespace accepts a child name (with the client's auth payload).
using NamespaceMatcher = std::function<bool(std::string_view name, const Args& auth)>;
/// A server-side event from another node of the cluster (Node's `io.on("event", …)` for
/// serverSideEmit). `ack` answers the emitting node when it asked for acks (else does nothing).
using ServerSideHandler = std::function<void(const Args& args, const ServerSideAck& ack)>;

class Namespace {
 public:
  Namespace(Server& server, std::string name, Namespace* parent = nullptr);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  Server& server() const { return server_; }
  Adapter& adapter() const { return *adapter_; }
  /// The parent namespace of a dynamic child, else nullptr.
  Namespace* parent() const { return parent_; }
  bool is_parent() const { return static_cast<bool>(matcher_); }

  /// Adds a connection middleware. Throws std::length_error past kMaxMiddlewares (a
  /// configuration error; a socket records its position in the chain in 16 bits).
  void use(Middleware m);
  static constexpr size_t kMaxMiddlewares = 0x7fff;  // per namespace; a child adds its parent's
  void on_connection(ConnectionHandler h) { on_connection_.push_back(std::move(h)); }

  BroadcastOperator to(std::string_view room) { return BroadcastOperator(*this).to(room); }
  BroadcastOperator in(std::string_view room) { return to(room); }
  BroadcastOperator except(std::string_view room) { return BroadcastOperator(*this).except(room); }
  BroadcastOperator local() { return BroadcastOperator(*this).local(); }
  // NOLINTNEXTLINE(readability-identifier-naming): `volatile` is a keyword
  BroadcastOperator volatile_() {
    return BroadcastOperator(*this).volatile_();
  }  // NOLINT(readability-identifier-naming)
  BroadcastOperator timeout(uint32_t ms) { return BroadcastOperator(*this).timeout(ms); }
  template <typename... A>
  void emit(std::string_view event, A&&... args) {
    BroadcastOperator(*this).emit(event, std::forward<A>(args)...);
  }

  // --- the cluster (no-ops or immediate answers on a single node) ---
  /// Listens to server-side events of this namespace emitted by other nodes. Handlers run on
  /// the loop that holds the adapter's connections (loop 0 for the Redis adapters).
  void on_server_side(std::string event, ServerSideHandler h);
  /// Emits `event` to the other servers (not to clients, not to this server).
  template <typename... A>
  void server_side_emit(std::string_view event, A&&... args) {
    const Json a[] = {Json(std::forward<A>(args))..., Json()};
    adapter_->server_side_emit(event, std::span<const Json>(a, sizeof...(A)));
  }
  void server_side_emit_args(std::string_view event, std::span<const Json> args) {
    adapter_->server_side_emit(event, args);
  }
  /// Emits to the other servers and collects one answer per server (raw JSON); `cb` gets an
  /// error text when some did not answer in time (with the answers that came).
  void server_side_emit_with_ack(std::string_view event, std::span<const Json> args,
                                 BroadcastAckCallback cb) {
    adapter_->server_side_emit_with_ack(event, args, std::move(cb));
  }
  /// Every room of the namespace, cluster-wide.
  void all_rooms(std::function<void(std::vector<std::string>)> cb) {
    adapter_->all_rooms(std::move(cb));
  }
  /// Servers of the cluster, this one included (cached; fetch_server_count asks afresh).
  size_t server_count() const { return adapter_->server_count(); }
  void fetch_server_count(std::function<void(size_t)> cb) {
    adapter_->fetch_server_count(std::move(cb));
  }
  /// For cluster adapters: runs this namespace's handlers of a server-side event that came
  /// from another node. Returns false when no handler listens (then nobody answers, as Node).
  bool dispatch_server_side(std::string_view event, const Args& args, const ServerSideAck& ack);

  /// The connected socket `id` if it lives on `loop` (call on that loop), else nullptr.
  Socket* find(int loop, std::string_view id) const;
  /// Connected sockets on `loop`.
  size_t local_count(int loop) const;
  /// Connected sockets on `loop`, readable from any thread (a hint: may be stale).
  uint32_t loop_count_hint(int loop) const {
    return loop_counts_[static_cast<size_t>(loop)].load(std::memory_order_relaxed);
  }
  /// Calls f(Socket&) for every connected socket on `loop` (its thread).
  template <typename F>
  void for_each_local(int loop, F&& f) const {
    local(loop).sockets.for_each([&f](Socket& s) {
      if (s.connected()) f(s);
    });
  }

  /// Handler tables shared by sockets of this namespace on `loop` (its thread; handler_table.h).
  size_t shared_handler_tables(int loop) const { return local(loop).handlers.size(); }

  /// Children of a parent namespace (a snapshot).
  std::vector<Namespace*> children() const;
  /// Next ack id for this namespace (Node numbers server acks per namespace).
  uint64_t next_ack_id() { return next_ack_id_.fetch_add(1, std::memory_order_relaxed); }

 private:
  friend class Server;
  friend class Client;
  friend class Socket;
  friend class Next;
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct IdOf {
    std::string_view operator()(const Socket& s) const { return s.id(); }
  };
  struct PerLoop {
    // Every socket of this namespace on the loop, connecting ones included. Keyed by the
    // socket's own id (stable: a Socket never moves and its id never changes), so the id is
    // not stored twice; one slot per socket (id_table.h).
    engineio::IdTable<Socket, IdOf> sockets;
    size_t connected = 0;
    // The event handler tables its sockets share (handler_table.h).
    HandlerCache handlers;
  };
  PerLoop& local(int loop) const { return per_loop_[static_cast<size_t>(loop)]; }

  // Connection sequence (on the client's loop).
  void add(Socket& s);
  void remove(Socket& s);
  void run_middleware(Socket& s, size_t index);
  void middleware_done(Socket& s, size_t index, const ConnectError* err);
  void do_connect(Socket& s);
  /// Every middleware that applies: the parent's, then this namespace's.
  size_t middleware_count() const;
  const Middleware& middleware_at(size_t i) const;

  Server& server_;
  std::string name_;
  Namespace* parent_;
  std::unique_ptr<Adapter> adapter_;
  std::vector<Middleware> middleware_;
  std::vector<ConnectionHandler> on_connection_;
  std::unordered_map<std::string, std::vector<ServerSideHandler>, SvHash, std::equal_to<>>
      server_side_;
  std::unique_ptr<PerLoop[]> per_loop_;
  std::unique_ptr<std::atomic<uint32_t>[]> loop_counts_;
  std::atomic<uint64_t> next_ack_id_{0};
  // Parent namespaces only.
  NamespaceMatcher matcher_;
  mutable std::mutex children_mu_;
  std::vector<Namespace*> children_;
};

}  // namespace sb::socketio
