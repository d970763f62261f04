#include "adapter/classic_adapter.h"

#include <simdjson.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <unordered_set>

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

using classic::RequestType;
using socketio::BroadcastOptions;
using socketio::current_loop;
using socketio::LoopScope;
using socketio::OutPacket;
using socketio::SocketInfo;

// Acks of a broadcast received from another node that set no timeout.
constexpr uint32_t kDefaultRemoteAckTimeoutMs = 5000;

}  // namespace

ClassicRedisAdapter::ClassicRedisAdapter(socketio::Namespace& nsp, std::shared_ptr<RedisBus> bus)
    : Adapter(nsp),
      local_(nsp),
      bus_(std::move(bus)),
      uid_(classic::random_uid(6)),
      channels_(bus_->options().key, nsp.name()),
      peers_(*bus_, nsp, channels_.request, false),
      requests_(
          nsp.server().loops(), "redis adapter " + nsp.name(),
          [] { return classic::random_uid(6); },
          [this](UniqueFunction<void(std::optional<size_t>)> cb) { peers_.ask(std::move(cb)); }) {
  on_home([this] { attach(); });
}

ClassicRedisAdapter::~ClassicRedisAdapter() {
  bus_->detach(this);
  requests_.cancel_all();
}

socketio::Loops& ClassicRedisAdapter::loops() const {
  return nsp().server().loops();
}

int ClassicRedisAdapter::here() {
  const int l = current_loop();
  return l < 0 ? RedisBus::kHomeLoop : l;
}

void ClassicRedisAdapter::on_home(std::function<void()> fn) {
  on_loop(RedisBus::kHomeLoop, std::move(fn));
}

void ClassicRedisAdapter::on_loop(int loop, std::function<void()> fn) {
  if (current_loop() == loop) {
    fn();
    return;
  }
  loops().post(loop, [loop, fn = std::move(fn)] {
    LoopScope scope(loop);
    fn();
  });
}

// Subscriptions exactly as the Node adapter (one PSUBSCRIBE, three SUBSCRIBEs per namespace);
// the hello lets peers that skip publishing while alone know at once that we are here.
void ClassicRedisAdapter::attach() {
  bus_->psubscribe(channels_.pattern, this);
  bus_->subscribe(channels_.request, this);
  bus_->subscribe(channels_.response, this);
  bus_->subscribe(channels_.specific_response(uid_), this);
  std::string hello;
  classic::encode_hello(hello, uid_);
  bus_->publish(channels_.request, hello);
  peers_.refresh();
}

void ClassicRedisAdapter::fetch_server_count(std::function<void(size_t)> cb) {
  const int origin = here();
  on_home([this, origin, cb = std::move(cb)]() mutable {
    peers_.ask([this, origin, cb = std::move(cb)](std::optional<size_t> n) {
      const size_t count = n ? std::max<size_t>(*n, 1) : server_count();
      on_loop(origin, [cb, count] { cb(count); });
    });
  });
}

// On loop 0 (every loop of a one-loop node) the PUBLISH is written at once: no task, no copy of
// the channel.
void ClassicRedisAdapter::publish(std::string_view channel, std::string payload) {
  if (current_loop() == RedisBus::kHomeLoop) {
    bus_->publish(channel, payload);
    return;
  }
  loops().post(RedisBus::kHomeLoop,
               [this, channel = std::string(channel), payload = std::move(payload)] {
                 LoopScope scope(RedisBus::kHomeLoop);
                 bus_->publish(channel, payload);
               });
}

void ClassicRedisAdapter::on_bus_state(bool connected) {
  peers_.on_bus_state(connected);
}

// ---------------------------------------------------------------------------------------------
// Broadcast

void ClassicRedisAdapter::broadcast(const OutPacket& p, const BroadcastOptions& opts) {
  if (!opts.flags.local) {
    if (!peers_.should_publish()) {
      metrics::publish_skipped().inc();
    } else if (!p.source) {
      SB_LOG_WARN("redis adapter: broadcast without its source, delivered locally only");
    } else {
      std::string msg;
      if (classic::encode_broadcast(msg, uid_, nsp().name(), *p.source, opts)) {
        publish(channels_.broadcast_channel(opts.rooms), std::move(msg));
      } else {
        SB_LOG_WARN("redis adapter: broadcast not encodable to MessagePack, local only");
      }
    }
  }
  local_.broadcast(p, opts);
}

// Every broadcast of the namespace arrives here, our own included (the pattern subscription
// matches them): those are dropped by their uid before any decoding. The rest is decoded into
// a reused Broadcast, and its rooms are moved into the options rather than copied.
void ClassicRedisAdapter::on_broadcast(std::string_view payload) {
  if (classic::peek_broadcast_uid(payload) == uid_) return;  // our own, already delivered
  classic::Broadcast& b = rx_;
  if (!classic::decode_broadcast(payload, b)) {
    metrics::decode_errors().inc();
    SB_LOG_DEBUG("redis adapter: undecodable broadcast dropped ({} bytes)", payload.size());
    return;
  }
  if (b.uid == uid_) return;
  peers_.saw_peer();
  if (b.nsp != nsp().name()) return;
  const OutPacket p = socketio::encode_shared_data(nsp().name(), b.data_json, b.attachments,
                                                   std::nullopt, nsp().server().options().deflate);
  BroadcastOptions opts = b.opts.take_options();
  opts.flags.local = true;
  local_.broadcast(p, opts);
}

// ---------------------------------------------------------------------------------------------
// Requests we send

// NUMSUB counts us too: with nobody else subscribed, nothing is published and the request
// ends at once with this node's part.
void ClassicRedisAdapter::send_request(const std::string& id, std::string payload) {
  requests_.count_and_publish(id, [this, payload = std::move(payload)] {
    peers_.saw_peer();
    bus_->publish(channels_.request, payload);
  });
}

void ClassicRedisAdapter::fetch_sockets(const BroadcastOptions& opts,
                                        std::function<void(std::vector<SocketInfo>)> cb) {
  if (opts.flags.local) {
    local_.fetch_sockets(opts, std::move(cb));
    return;
  }
  const int origin = here();
  local_.fetch_sockets(
      opts, [this, opts, origin, cb = std::move(cb)](std::vector<SocketInfo> mine) mutable {
        on_home([this, opts, origin, cb = std::move(cb), mine = std::move(mine)]() mutable {
          const std::optional<std::string> id = requests_.open_fetch(
              origin, bus_->options().requests_timeout_ms, std::move(mine), std::move(cb));
          if (!id) return;
          std::string req;
          classic::encode_fetch_request(req, uid_, *id, opts);
          send_request(*id, std::move(req));
        });
      });
}

void ClassicRedisAdapter::all_rooms(std::function<void(std::vector<std::string>)> cb) {
  const int origin = here();
  BroadcastOptions everyone;
  everyone.flags.local = true;
  local_.fetch_sockets(
      everyone, [this, origin, cb = std::move(cb)](std::vector<SocketInfo> mine) mutable {
        on_home([this, origin, cb = std::move(cb), mine = std::move(mine)]() mutable {
          const std::optional<std::string> id = requests_.open_all_rooms(
              origin, bus_->options().requests_timeout_ms, std::move(mine), std::move(cb));
          if (!id) return;
          std::string req;
          classic::encode_all_rooms_request(req, uid_, *id);
          send_request(*id, std::move(req));
        });
      });
}

void ClassicRedisAdapter::server_side_emit(std::string_view event,
                                           std::span<const socketio::Json> args) {
  if (!peers_.should_publish()) return;
  std::string req;
  classic::encode_server_side_emit(req, uid_, {}, event_data_json(event, args));
  publish(channels_.request, std::move(req));
}

void ClassicRedisAdapter::server_side_emit_with_ack(std::string_view event,
                                                    std::span<const socketio::Json> args,
                                                    socketio::BroadcastAckCallback done) {
  const int origin = here();
  on_home([this, origin, data = event_data_json(event, args), done = std::move(done)]() mutable {
    const std::optional<std::string> id = requests_.open_server_side_emit(
        origin, bus_->options().requests_timeout_ms, std::move(done));
    if (!id) return;
    std::string req;
    classic::encode_server_side_emit(req, uid_, *id, data);
    send_request(*id, std::move(req));
  });
}

void ClassicRedisAdapter::broadcast_with_ack(const OutPacket& p, const BroadcastOptions& opts,
                                             uint64_t ack_id, socketio::BroadcastAckCallback done) {
  if (opts.flags.local || !p.source) {
    local_.broadcast_with_ack(p, opts, ack_id, std::move(done));
    return;
  }
  const int origin = here();
  // The request table lives on loop 0: the packet goes there (a few reference counts).
  on_home([this, p, opts, ack_id, origin, done = std::move(done)]() mutable {
    const uint32_t timeout =
        opts.flags.timeout_ms.value_or(socketio::InMemoryAdapter::kDefaultAckTimeoutMs);
    const std::optional<std::string> id =
        requests_.open_broadcast_ack(origin, timeout, std::move(done));
    if (!id) return;
    std::string req;
    const bool encoded = static_cast<bool>(
        classic::encode_broadcast_request(req, uid_, *id, nsp().name(), *p.source, opts));
    local_.broadcast_with_ack(p, opts, ack_id,
                              [this, id = *id](std::string_view error, std::vector<std::string> r) {
                                requests_.local_done(id, error, std::move(r));
                              });
    if (encoded) {
      send_request(*id, std::move(req));
    } else {
      SB_LOG_WARN("redis adapter: broadcast with ack not encodable to MessagePack, local only");
      requests_.expect_none(*id);
    }
  });
}

void ClassicRedisAdapter::add_sockets(const BroadcastOptions& opts,
                                      std::vector<std::string> rooms) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string req;
    classic::encode_sockets_request(req, RequestType::kRemoteJoin, uid_, opts, rooms, false);
    publish(channels_.request, std::move(req));
  }
  local_.add_sockets(opts, std::move(rooms));
}

void ClassicRedisAdapter::del_sockets(const BroadcastOptions& opts,
                                      std::vector<std::string> rooms) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string req;
    classic::encode_sockets_request(req, RequestType::kRemoteLeave, uid_, opts, rooms, false);
    publish(channels_.request, std::move(req));
  }
  local_.del_sockets(opts, std::move(rooms));
}

void ClassicRedisAdapter::disconnect_sockets(const BroadcastOptions& opts, bool close) {
  if (!opts.flags.local && peers_.should_publish()) {
    std::string req;
    classic::encode_sockets_request(req, RequestType::kRemoteDisconnect, uid_, opts, {}, close);
    publish(channels_.request, std::move(req));
  }
  local_.disconnect_sockets(opts, close);
}

// ---------------------------------------------------------------------------------------------
// Receiving (loop 0)

void ClassicRedisAdapter::on_bus_message(const redis::PubSubMessage& m) {
  LoopScope scope(RedisBus::kHomeLoop);
  if (m.kind == redis::PubSubMessage::Kind::kPMessage) {
    on_broadcast(m.payload);
  } else if (m.channel == channels_.request) {
    on_request(m.payload);
  } else {
    on_response(m.payload);
  }
}

void ClassicRedisAdapter::answer(const classic::Request& q, const std::string& payload) {
  const std::string channel = bus_->options().publish_on_specific_response_channel
                                  ? channels_.specific_response(q.uid)
                                  : channels_.response;
  bus_->publish(channel, payload);
}

void ClassicRedisAdapter::on_request(std::string_view payload) {
  Result<classic::Request> r = classic::decode_request(payload);
  if (!r) {
    metrics::decode_errors().inc();
    SB_LOG_DEBUG("redis adapter: undecodable request dropped ({} bytes)", payload.size());
    return;
  }
  classic::Request& q = *r;
  if (q.uid == uid_) return;  // our own (hello, join/leave/disconnect applied already, …)
  if (!q.request_id.empty() && requests_.contains(q.request_id)) return;  // ours
  peers_.saw_peer();
  switch (q.type) {
    case RequestType::kSockets: {
      BroadcastOptions o;
      o.rooms = q.rooms;
      local_.sockets(o.rooms, [this, q](const std::vector<std::string>& ids) {
        std::string out;
        classic::encode_sockets_response(out, q.request_id, ids);
        answer(q, out);
      });
      break;
    }
    case RequestType::kAllRooms:
      answer_all_rooms(q);
      break;
    case RequestType::kRemoteJoin:
    case RequestType::kRemoteLeave:
    case RequestType::kRemoteDisconnect: {
      BroadcastOptions o;
      if (q.has_opts) {
        o = q.opts.to_options();
      } else if (!q.sid.empty()) {
        o.rooms = {q.sid};  // the legacy form: one socket by id
      } else {
        return;
      }
      o.flags.local = true;
      if (q.type == RequestType::kRemoteJoin) {
        local_.add_sockets(o, q.has_opts ? q.rooms : std::vector<std::string>{q.room});
      } else if (q.type == RequestType::kRemoteLeave) {
        local_.del_sockets(o, q.has_opts ? q.rooms : std::vector<std::string>{q.room});
      } else {
        local_.disconnect_sockets(o, q.close);
      }
      if (!q.has_opts && !q.request_id.empty()) {
        std::string out = "{\"requestId\":";
        engineio::append_json_string(out, q.request_id);
        out.push_back('}');
        answer(q, out);
      }
      break;
    }
    case RequestType::kRemoteFetch:
      answer_fetch(q);
      break;
    case RequestType::kServerSideEmit:
      answer_server_side_emit(q);
      break;
    case RequestType::kBroadcast:
      answer_broadcast_with_ack(q);
      break;
    default:
      break;  // responses on the request channel, hellos, types of newer peers
  }
}

void ClassicRedisAdapter::answer_all_rooms(const classic::Request& q) {
  gather_on_home<std::vector<std::string>>(
      nsp(),
      [this](int loop) {
        std::vector<std::string> rooms;
        nsp().for_each_local(loop, [&](socketio::Socket& s) {
          for (const std::string& r : s.rooms())
            rooms.push_back(r);
        });
        return rooms;
      },
      [this, q](std::vector<std::vector<std::string>> parts) {
        std::unordered_set<std::string> seen;
        std::vector<std::string> rooms;
        for (auto& part : parts) {
          for (auto& r : part)
            if (seen.insert(r).second) rooms.push_back(std::move(r));
        }
        std::string out;
        classic::encode_all_rooms_response(out, q.request_id, rooms);
        answer(q, out);
      });
}

void ClassicRedisAdapter::answer_fetch(const classic::Request& q) {
  gather_fetch_answer(nsp(), local_, q.opts.to_options(), [this, q](const std::string& members) {
    std::string out;
    classic::encode_fetch_response(out, q.request_id, members);
    answer(q, out);
  });
}

void ClassicRedisAdapter::answer_server_side_emit(const classic::Request& q) {
  std::string event;
  std::string args;
  if (!split_event_data(q.data_json, event, args)) {
    metrics::decode_errors().inc();
    return;
  }
  socketio::ServerSideAck ack;
  if (!q.request_id.empty()) {
    // One answer per node, whatever the number of handlers (Node's `called` flag).
    auto called = std::make_shared<bool>(false);
    ack = [this, called, id = q.request_id](const socketio::Json& reply) {
      if (*called) return;
      *called = true;
      std::string arg;
      std::vector<socketio::Bytes> att;
      reply.write(arg, att);
      std::string out;
      classic::encode_server_side_emit_response(out, id, arg);
      // Always the common response channel, as Node (even with a specific one configured).
      on_home([this, out = std::move(out)] { bus_->publish(channels_.response, out); });
    };
  } else {
    ack = [](const socketio::Json&) {};
  }
  const socketio::Args a(args);
  nsp().dispatch_server_side(event, a, ack);
}

// A broadcast with acks from another node: delivered here with an ack id of our own; the
// requester learns how many clients got it (type 8), then each answer (type 9). The count is
// sent when our local collector ends, as the number of answers it got, so the requester never
// waits for an answer that will not come.
void ClassicRedisAdapter::answer_broadcast_with_ack(const classic::Request& q) {
  if (q.packet_nsp != nsp().name()) return;
  const uint64_t ack_id = nsp().next_ack_id();
  const OutPacket p = socketio::encode_shared_data(nsp().name(), q.data_json, q.attachments, ack_id,
                                                   nsp().server().options().deflate);
  BroadcastOptions o = q.opts.to_options();
  o.flags.local = true;
  if (!o.flags.timeout_ms) o.flags.timeout_ms = kDefaultRemoteAckTimeoutMs;
  local_.broadcast_with_ack(
      p, o, ack_id, [this, q](std::string_view /*error*/, std::vector<std::string> responses) {
        on_home([this, q, responses = std::move(responses)] {
          std::string out;
          classic::encode_client_count(out, q.request_id, responses.size());
          answer(q, out);
          for (const std::string& r : responses) {
            std::string ack;
            if (classic::encode_broadcast_ack(ack, q.request_id, r)) {
              answer(q, ack);
            } else {
              metrics::decode_errors().inc();
            }
          }
        });
      });
}

void ClassicRedisAdapter::on_response(std::string_view payload) {
  Result<classic::Response> r = classic::decode_response(payload);
  if (!r) {
    metrics::decode_errors().inc();
    SB_LOG_DEBUG("redis adapter: undecodable response dropped ({} bytes)", payload.size());
    return;
  }
  // Which answer this is follows from the fields present; an answer of the wrong kind for the
  // request (or to another node's request, or after the end) is ignored by requests_.
  classic::Response& a = *r;
  const std::string& id = a.request_id;
  if (a.has_sockets && requests_.answer_sockets(id, std::move(a.sockets))) return;
  if (a.has_rooms && requests_.answer_rooms(id, std::move(a.rooms))) return;
  if (a.type == RequestType::kServerSideEmit) {
    requests_.answer_response(id, std::move(a.data_json));
  } else if (a.type == RequestType::kBroadcastClientCount) {
    requests_.answer_client_count(id, a.client_count);
  } else if (a.type == RequestType::kBroadcastAck) {
    requests_.answer_ack(id, std::move(a.data_json));
  }
}

}  // namespace sb::adapter
