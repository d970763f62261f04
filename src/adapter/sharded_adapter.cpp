#include "adapter/sharded_adapter.h"

#include <algorithm>

#include "adapter/adapter_metrics.h"
#include "adapter/local_answers.h"
#include "common/log.h"
#include "engineio/json_writer.h"
#include "socketio/args.h"
#include "socketio/namespace.h"
#include "socketio/runtime.h"
#include "socketio/server.h"
#include "socketio/socket.h"

namespace sb::adapter {
namespace {

using sharded::MessageType;
using socketio::BroadcastOptions;
using socketio::current_loop;
using socketio::LoopScope;
using socketio::OutPacket;
using socketio::SocketInfo;

constexpr int kHome = RedisBus::kHomeLoop;
constexpr uint32_t kDefaultRemoteAckTimeoutMs = 5000;

// Node's looksLikeASocketId: dynamic mode keeps 20-character rooms on the main channel.
bool looks_like_socket_id(std::string_view room) {
  return room.size() == 20;
}

}  // namespace

ShardedRedisAdapter::ShardedRedisAdapter(socketio::Namespace& nsp, std::shared_ptr<RedisBus> bus)
    : Adapter(nsp),
      local_(nsp),
      bus_(std::move(bus)),
      uid_(sharded::random_id()),
      channel_(bus_->options().key + "#" + nsp.name() + "#"),
      response_channel_(channel_ + uid_ + "#"),
      peers_(*bus_, nsp, channel_, true),
      requests_(
          nsp.server().loops(), "sharded redis adapter " + nsp.name(),
          [] { return sharded::random_id(); },
          [this](UniqueFunction<void(std::optional<size_t>)> cb) { peers_.ask(std::move(cb)); }) {
  own_tail_ = R"(,"uid":")" + uid_ + R"(","nsp":)";
  engineio::append_json_string(own_tail_, nsp.name());
  own_tail_.push_back('}');
  on_loop(kHome, [this] { attach(); });
}

ShardedRedisAdapter::~ShardedRedisAdapter() {
  bus_->detach(this);
  requests_.cancel_all();
}

socketio::Loops& ShardedRedisAdapter::loops() const {
  return nsp().server().loops();
}

int ShardedRedisAdapter::here() {
  const int l = current_loop();
  return l < 0 ? kHome : l;
}

void ShardedRedisAdapter::on_loop(int loop, std::function<void()> fn) {
  if (current_loop() == loop) {
    fn();
    return;
  }
  loops().post(loop, [loop, fn = std::move(fn)] {
    LoopScope scope(loop);
    fn();
  });
}

std::string ShardedRedisAdapter::room_channel(std::string_view room) const {
  return channel_ + std::string(room) + "#";
}

// The hello (type 100, which ClusterAdapter peers ignore as an unknown type) tells peers that
// skip publishing while alone that we are here (docs/adapters.md).
void ShardedRedisAdapter::attach() {
  bus_->ssubscribe(channel_, this);
  bus_->ssubscribe(response_channel_, this);
  std::string hello = R"({"type":100,"uid":")" + uid_ + R"(","nsp":)";
  engineio::append_json_string(hello, nsp().name());
  hello.push_back('}');
  bus_->spublish(channel_, hello);
  peers_.refresh();
}

void ShardedRedisAdapter::fetch_server_count(std::function<void(size_t)> cb) {
  const int origin = here();
  on_loop(kHome, [this, origin, cb = std::move(cb)]() mutable {
    peers_.ask([this, origin, cb = std::move(cb)](std::optional<size_t> n) {
      const size_t count = n ? std::max<size_t>(*n, 1) : server_count();
      on_loop(origin, [cb, count] { cb(count); });
    });
  });
}

void ShardedRedisAdapter::on_bus_state(bool connected) {
  peers_.on_bus_state(connected);
}

void ShardedRedisAdapter::publish(std::string channel, std::string payload) {
  on_loop(kHome, [this, channel = std::move(channel), payload = std::move(payload)] {
    bus_->spublish(channel, payload);
  });
}

// ---------------------------------------------------------------------------------------------
// Membership: dynamic room channels

bool ShardedRedisAdapter::dynamic_room(const socketio::Socket& s, std::string_view room) const {
  switch (bus_->options().subscription_mode) {
    case SubscriptionMode::kStatic:
      return false;
    case SubscriptionMode::kDynamic:
      return room != s.id();  // public rooms only (Node: `!this.sids.has(room)`)
    case SubscriptionMode::kDynamicPrivate:
      return true;
  }
  return false;
}

void ShardedRedisAdapter::add_all(socketio::Socket& s, std::span<const std::string> rooms) {
  local_.add_all(s, rooms);
  for (const std::string& r : rooms) {
    if (!dynamic_room(s, r)) continue;
    on_loop(kHome, [this, r] { room_ref(r, +1); });
  }
}

void ShardedRedisAdapter::del(socketio::Socket& s, std::string_view room) {
  local_.del(s, room);
  if (!dynamic_room(s, room)) return;
  on_loop(kHome, [this, r = std::string(room)] { room_ref(r, -1); });
}

void ShardedRedisAdapter::del_all(socketio::Socket& s) {
  for (const std::string& r : s.rooms()) {
    if (!dynamic_room(s, r)) continue;
    on_loop(kHome, [this, r] { room_ref(r, -1); });
  }
  local_.del_all(s);
}

void ShardedRedisAdapter::room_ref(const std::string& room, int delta) {
  if (delta > 0) {
    if (room_refs_[room]++ == 0) bus_->ssubscribe(room_channel(room), this);
    return;
  }
  auto it = room_refs_.find(room);
  if (it == room_refs_.end()) return;
  if (--it->second == 0) {
    room_refs_.erase(it);
    bus_->sunsubscribe(room_channel(room));
  }
}

// ---------------------------------------------------------------------------------------------
// Broadcast

void ShardedRedisAdapter::broadcast(const OutPacket& p, const BroadcastOptions& opts) {
  if (!opts.flags.local) {
    if (!peers_.should_publish()) {
      metrics::publish_skipped().inc();
    } else if (p.source) {
      std::string msg;
      if (sharded::encode_broadcast(msg, uid_, nsp().name(), *p.source, opts)) {
        // computeChannel(): one room, no ack, and (dynamic) not a socket id.
        const SubscriptionMode mode = bus_->options().subscription_mode;
        const bool room =
            opts.rooms.size() == 1 &&
            ((mode == SubscriptionMode::kDynamic && !looks_like_socket_id(opts.rooms.front())) ||
             mode == SubscriptionMode::kDynamicPrivate);
        publish(room ? room_channel(opts.rooms.front()) : channel_, std::move(msg));
      }
    }
  }
  local_.broadcast(p, opts);
}

void ShardedRedisAdapter::broadcast_with_ack(const OutPacket& p, const BroadcastOptions& opts,
                                             uint64_t ack_id, socketio::BroadcastAckCallback done) {
  if (opts.flags.local || !p.source) {
    local_.broadcast_with_ack(p, opts, ack_id, std::move(done));
    return;
  }
  const int origin = here();
  on_loop(kHome, [this, p, opts, ack_id, origin, done = std::move(done)]() mutable {
    const uint32_t timeout =
        opts.flags.timeout_ms.value_or(socketio::InMemoryAdapter::kDefaultAckTimeoutMs);
    const std::optional<std::string> id =
        requests_.open_broadcast_ack(origin, timeout, std::move(done));
    if (!id) return;
    std::string req;
    const bool encoded =
        static_cast<bool>(sharded::encode_broadcast(req, uid_, nsp().name(), *p.source, opts, *id));
    local_.broadcast_with_ack(p, opts, ack_id,
                              [this, id = *id](std::string_view error, std::vector<std::string> r) {
                                requests_.local_done(id, error, std::move(r));
                              });
    if (encoded) {
      send_request(*id, std::move(req));
    } else {
      requests_.expect_none(*id);
    }
  });
}

void ShardedRedisAdapter::add_sockets(const BroadcastOptions& opts,
                                      std::vector<std::string> rooms) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string m;
    sharded::encode_sockets(m, MessageType::kSocketsJoin, uid_, nsp().name(), opts, rooms, false);
    publish(channel_, std::move(m));
  }
  local_.add_sockets(opts, std::move(rooms));
}

void ShardedRedisAdapter::del_sockets(const BroadcastOptions& opts,
                                      std::vector<std::string> rooms) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string m;
    sharded::encode_sockets(m, MessageType::kSocketsLeave, uid_, nsp().name(), opts, rooms, false);
    publish(channel_, std::move(m));
  }
  local_.del_sockets(opts, std::move(rooms));
}

void ShardedRedisAdapter::disconnect_sockets(const BroadcastOptions& opts, bool close) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string m;
    sharded::encode_sockets(m, MessageType::kDisconnectSockets, uid_, nsp().name(), opts, {},
                            close);
    publish(channel_, std::move(m));
  }
  local_.disconnect_sockets(opts, close);
}

void ShardedRedisAdapter::server_side_emit(std::string_view event,
                                           std::span<const socketio::Json> args) {
  if (!peers_.should_publish()) return;
  std::string m;
  sharded::encode_server_side_emit(m, uid_, nsp().name(), {}, event_data_json(event, args));
  publish(channel_, std::move(m));
}

// ---------------------------------------------------------------------------------------------
// Requests

// SHARDNUMSUB counts us too: with nobody else subscribed, nothing is published and the
// request ends at once with this node's part.
void ShardedRedisAdapter::send_request(const std::string& id, std::string payload) {
  requests_.count_and_publish(id, [this, payload = std::move(payload)] {
    peers_.saw_peer();
    bus_->spublish(channel_, payload);
  });
}

void ShardedRedisAdapter::fetch_sockets(const BroadcastOptions& opts,
                                        std::function<void(std::vector<SocketInfo>)> cb) {
  if (opts.flags.local) {
    local_.fetch_sockets(opts, std::move(cb));
    return;
  }
  const int origin = here();
  local_.fetch_sockets(
      opts, [this, opts, origin, cb = std::move(cb)](std::vector<SocketInfo> mine) mutable {
        on_loop(kHome, [this, opts, origin, cb = std::move(cb), mine = std::move(mine)]() mutable {
          const std::optional<std::string> id = requests_.open_fetch(
              origin, bus_->options().requests_timeout_ms, std::move(mine), std::move(cb));
          if (!id) return;
          std::string req;
          sharded::encode_fetch(req, uid_, nsp().name(), opts, *id);
          send_request(*id, std::move(req));
        });
      });
}

void ShardedRedisAdapter::server_side_emit_with_ack(std::string_view event,
                                                    std::span<const socketio::Json> args,
                                                    socketio::BroadcastAckCallback done) {
  const int origin = here();
  on_loop(kHome,
          [this, origin, data = event_data_json(event, args), done = std::move(done)]() mutable {
            const std::optional<std::string> id = requests_.open_server_side_emit(
                origin, bus_->options().requests_timeout_ms, std::move(done));
            if (!id) return;
            std::string req;
            sharded::encode_server_side_emit(req, uid_, nsp().name(), *id, data);
            send_request(*id, std::move(req));
          });
}

// ---------------------------------------------------------------------------------------------
// Receiving (loop 0)

void ShardedRedisAdapter::on_bus_message(const redis::PubSubMessage& m) {
  LoopScope scope(kHome);
  on_message(m.payload, m.channel == response_channel_);
}

void ShardedRedisAdapter::answer(const sharded::Message& m, const std::string& payload) {
  // doPublishResponse: the requester's own channel.
  bus_->spublish(channel_ + m.uid + "#", payload);
}

// Our own messages come back on the main channel (we subscribe to what we publish). A JSON one
// ends with the `"uid":…,"nsp":…}` tail we wrote (sharded_codec's key order), so it is dropped
// without parsing; a MessagePack one (a broadcast with binary) is decoded and dropped below.
void ShardedRedisAdapter::on_message(std::string_view payload, bool response_channel) {
  if (payload.ends_with(own_tail_)) return;
  Result<sharded::Message> r = sharded::decode(payload);
  if (!r) {
    metrics::decode_errors().inc();
    SB_LOG_DEBUG("sharded redis adapter: undecodable message dropped ({} bytes)", payload.size());
    return;
  }
  sharded::Message& m = *r;
  if (m.uid == uid_ || m.nsp != nsp().name()) return;
  peers_.saw_peer();
  if (response_channel) {
    // An answer of the wrong kind for the request (or after its end) is ignored by requests_.
    const std::string& id = m.request_id;
    switch (m.type) {
      case MessageType::kFetchSocketsResponse:
        requests_.answer_sockets(id, std::move(m.sockets));
        break;
      case MessageType::kServerSideEmitResponse:
        requests_.answer_response(id, std::move(m.data_json));
        break;
      case MessageType::kBroadcastClientCount:
        requests_.answer_client_count(id, m.client_count);
        break;
      case MessageType::kBroadcastAck:
        requests_.answer_ack(id, std::move(m.data_json));
        break;
      default:
        break;
    }
    return;
  }
  BroadcastOptions o = m.opts.to_options();
  o.flags.local = true;
  switch (m.type) {
    case MessageType::kBroadcast: {
      if (m.request_id.empty()) {
        const OutPacket p =
            socketio::encode_shared_data(nsp().name(), m.data_json, m.attachments, std::nullopt,
                                         nsp().server().options().deflate);
        local_.broadcast(p, o);
        break;
      }
      const uint64_t ack_id = nsp().next_ack_id();
      const OutPacket p = socketio::encode_shared_data(nsp().name(), m.data_json, m.attachments,
                                                       ack_id, nsp().server().options().deflate);
      if (!o.flags.timeout_ms) o.flags.timeout_ms = kDefaultRemoteAckTimeoutMs;
      // The count first, then each answer (see the classic adapter: sent when the local
      // collector ends, so the requester never waits for an answer that will not come).
      local_.broadcast_with_ack(
          p, o, ack_id, [this, m](std::string_view, std::vector<std::string> responses) {
            on_loop(kHome, [this, m, responses = std::move(responses)] {
              std::string out;
              sharded::encode_client_count(out, uid_, nsp().name(), m.request_id, responses.size());
              answer(m, out);
              for (const std::string& a : responses) {
                std::string ack;
                sharded::encode_answer(ack, MessageType::kBroadcastAck, uid_, nsp().name(),
                                       m.request_id, a);
                answer(m, ack);
              }
            });
          });
      break;
    }
    case MessageType::kSocketsJoin:
      local_.add_sockets(o, m.rooms);
      break;
    case MessageType::kSocketsLeave:
      local_.del_sockets(o, m.rooms);
      break;
    case MessageType::kDisconnectSockets:
      local_.disconnect_sockets(o, m.close);
      break;
    case MessageType::kFetchSockets:
      gather_fetch_answer(nsp(), local_, o, [this, m](const std::string& members) {
        std::string out;
        sharded::encode_fetch_response(out, uid_, nsp().name(), m.request_id, members);
        answer(m, out);
      });
      break;
    case MessageType::kServerSideEmit: {
      std::string event;
      std::string args;
      if (!split_event_data(m.data_json, event, args)) {
        metrics::decode_errors().inc();
        return;
      }
      socketio::ServerSideAck ack = [](const socketio::Json&) {};
      if (!m.request_id.empty()) {
        auto called = std::make_shared<bool>(false);
        ack = [this, called, m](const socketio::Json& reply) {
          if (*called) return;
          *called = true;
          std::string arg;
          std::vector<socketio::Bytes> att;
          reply.write(arg, att);
          std::string out;
          sharded::encode_answer(out, MessageType::kServerSideEmitResponse, uid_, nsp().name(),
                                 m.request_id, arg);
          on_loop(kHome, [this, m, out = std::move(out)]() mutable { answer(m, out); });
        };
      }
      nsp().dispatch_server_side(event, socketio::Args(args), ack);
      break;
    }
    default:
      break;  // responses on the main channel, heartbeats, newer types
  }
}

}  // namespace sb::adapter
