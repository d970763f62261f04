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

  const BroadcastOptions& options() const { return opts_; }

 private:
  std::vector<Namespace*> targets() const;
  Namespace* nsp_;
  BroadcastOptions opts_;
};

}  // namespace sb::socketio
