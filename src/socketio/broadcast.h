#pragma once
// Node's BroadcastOperator: `io.to(room).except(other).volatile_().emit(ev, args…)`. A value
// type that accumulates targeting and flags; emit() encodes the packet once and hands it to the
// namespace's adapter. On a parent (dynamic) namespace it targets every child.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socketio/adapter.h"
#include "socketio/json.h"

namespace sb::socketio {

class Namespace;
class RemoteSocket;

class BroadcastOperator {
 public:
  explicit BroadcastOperator(Namespace& nsp, BroadcastOptions opts = {})
      : nsp_(&nsp), opts_(std::move(opts)) {}

  BroadcastOperator to(std::string_view room) const& { return BroadcastOperator(*this).to(room); }
  BroadcastOperator to(std::string_view room) && {
    opts_.rooms.emplace_back(room);
    return std::move(*this);
  }
  BroadcastOperator in(std::string_view room) const& { return to(room); }
  BroadcastOperator except(std::string_view room) const& {
    return BroadcastOperator(*this).except(room);
  }
  BroadcastOperator except(std::string_view room) && {
    opts_.except.emplace_back(room);
    return std::move(*this);
  }
  BroadcastOperator local() const {
    BroadcastOperator b(*this);
    b.opts_.flags.local = true;
    return b;
  }
  // NOLINTNEXTLINE(readability-identifier-naming): `volatile` is a keyword
  BroadcastOperator volatile_() const {
    BroadcastOperator b(*this);
    b.opts_.flags.volatile_ = true;
    return b;
  }
  BroadcastOperator timeout(uint32_t ms) const {
    BroadcastOperator b(*this);
    b.opts_.flags.timeout_ms = ms;
    return b;
  }

  template <typename... A>
  void emit(std::string_view event, A&&... args) const {
    const Json a[] = {Json(std::forward<A>(args))..., Json()};
    emit_args(event, std::span<const Json>(a, sizeof...(A)));
  }
  void emit_args(std::string_view event, std::span<const Json> args) const;
  /// Emits with an ack id and collects every receiver's ack (timeout() sets the deadline;
  /// default 10 s so the callback always runs).
  void emit_with_ack(std::string_view event, std::span<const Json> args,
                     BroadcastAckCallback cb) const;

  void sockets_join(const std::vector<std::string>& rooms) const;
  void sockets_leave(const std::vector<std::string>& rooms) const;
  void disconnect_sockets(bool close = false) const;
  void fetch_sockets(std::function<void(std::vector<SocketInfo>)> cb) const;
  /// fetch_sockets, each result wrapped so it can be emitted to, joined, left or disconnected
  /// wherever it lives (this node or another one of the cluster).
  void fetch_remote_sockets(std::function<void(std::vector<RemoteSocket>)> cb) const;

  const BroadcastOptions& options() const { return opts_; }

 private:
  std::vector<Namespace*> targets() const;
  Namespace* nsp_;
  BroadcastOptions opts_;
};

/// A socket found by fetch_sockets, local or on another node (Node's RemoteSocket). Every
/// operation is a broadcast to the socket's own room, so it reaches the socket through the
/// adapter wherever it lives; a socket that is gone meanwhile is simply not found.
class RemoteSocket {
 public:
  RemoteSocket(Namespace& nsp, SocketInfo info) : nsp_(&nsp), info_(std::move(info)) {}

  const std::string& id() const { return info_.id; }
  const std::vector<std::string>& rooms() const { return info_.rooms; }
  /// Raw JSON (other nodes' sockets only; empty for local ones).
  const std::string& handshake_json() const { return info_.handshake_json; }
  const std::string& data_json() const { return info_.data_json; }
  const SocketInfo& info() const { return info_; }

  template <typename... A>
  void emit(std::string_view event, A&&... args) const {
    const Json a[] = {Json(std::forward<A>(args))..., Json()};
    emit_args(event, std::span<const Json>(a, sizeof...(A)));
  }
  void emit_args(std::string_view event, std::span<const Json> args) const;
  void emit_with_ack(std::string_view event, std::span<const Json> args, uint32_t timeout_ms,
                     BroadcastAckCallback cb) const;
  void join(const std::vector<std::string>& rooms) const;
  void leave(const std::vector<std::string>& rooms) const;
  void disconnect(bool close = false) const;

 private:
  Namespace* nsp_;
  SocketInfo info_;
};

}  // namespace sb::socketio
