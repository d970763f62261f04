#include "adapter/classic_adapter.h"

#include <simdjson.h>

#include <algorithm>
#include <ctime>

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

constexpr std::string_view kTimedOut = "operation has timed out";
// While requests are in flight, PUBSUB NUMSUB is asked this often to notice a node that left
// (its subscriber connection closed): the request then ends with what arrived.
constexpr uint32_t kWatchMs = 250;
// Acks of a broadcast received from another node that set no timeout.
constexpr uint32_t kDefaultRemoteAckTimeoutMs = 5000;

}  // namespace

ClassicRedisAdapter::ClassicRedisAdapter(socketio::Namespace& nsp, std::shared_ptr<RedisBus> bus)
    : Adapter(nsp),
      local_(nsp),
      bus_(std::move(bus)),
      uid_(classic::random_uid(6)),
      channels_(bus_->options().key, nsp.name()),
      peers_(*bus_, nsp, channels_.request, false) {
  on_home([this] { attach(); });
}

ClassicRedisAdapter::~ClassicRedisAdapter() {
  bus_->detach(this);
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

ClassicRedisAdapter::Pending& ClassicRedisAdapter::open_request(Kind kind, int origin,
                                                                uint32_t timeout_ms,
                                                                std::string& id_out) {
  id_out = classic::random_uid(6);
  while (pending_.count(id_out) != 0)
    id_out = classic::random_uid(6);
  auto p = std::make_unique<Pending>();
  p->kind = kind;
  p->origin = origin;
  Pending& ref = *p;
  pending_.emplace(id_out, std::move(p));
  metrics::requests().inc();
  loops().timers(RedisBus::kHomeLoop).arm(ref.timer, timeout_ms, [this, id = id_out] {
    LoopScope scope(RedisBus::kHomeLoop);
    finish(id, true);
  });
  return ref;
}

void ClassicRedisAdapter::count_and_publish(const std::string& id, std::string payload) {
  peers_.ask([this, id, payload = std::move(payload)](std::optional<size_t> n) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending& p = *it->second;
    // NUMSUB counts us too. Unknown (Redis away): nobody else is reachable now.
    const size_t others = n && *n > 1 ? *n - 1 : 0;
    p.expected = others;
    p.expected_first = others;
    if (others > 0) {
      peers_.saw_peer();
      bus_->publish(channels_.request, payload);
      watch_peers();
    }
    check(id);
  });
}

void ClassicRedisAdapter::check(const std::string& id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const Pending& p = *it->second;
  if (p.expected == SIZE_MAX) return;
  bool done = p.received >= p.expected;
  if (p.kind == Kind::kBroadcastAck) done = done && p.local_done && p.remote_acks >= p.client_count;
  if (done) finish(id, false);
}

void ClassicRedisAdapter::finish(const std::string& id, bool timed_out) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  p->timer.cancel();
  std::string error;
  const size_t expected = p->expected == SIZE_MAX ? 0 : p->expected;
  if (timed_out) {
    metrics::requests_timed_out().inc();
    SB_LOG_WARN("redis adapter {}: request {} timed out with {} of {} answers", nsp().name(), id,
                p->received, expected);
    error = p->kind == Kind::kServerSideEmit
                ? "timeout reached: only " + std::to_string(p->responses.size()) +
                      " responses received out of " + std::to_string(expected)
                : std::string(kTimedOut);
  } else if (p->shrunk) {
    metrics::requests_partial().inc();
    SB_LOG_WARN("redis adapter {}: request {} ended with {} answers: {} of {} nodes left",
                nsp().name(), id, p->received, p->expected_first - p->expected, p->expected_first);
    if (p->kind == Kind::kServerSideEmit) {
      error = "partial: " + std::to_string(p->expected_first - p->expected) +
              " server(s) left before answering";
    }
  }
  if (p->kind == Kind::kBroadcastAck && error.empty() && !p->local_error.empty())
    error = p->local_error;
  // Shared, not raw: a task that never runs (loops stopping) must not leak the request.
  std::shared_ptr<Pending> done(std::move(p));
  on_loop(done->origin, [done, error] {
    switch (done->kind) {
      case Kind::kFetch:
        if (done->fetch_cb) done->fetch_cb(std::move(done->sockets));
        break;
      case Kind::kAllRooms:
        if (done->rooms_cb) done->rooms_cb(std::move(done->rooms));
        break;
      case Kind::kServerSideEmit:
      case Kind::kBroadcastAck:
        if (done->ack_cb) done->ack_cb(error, std::move(done->responses));
        break;
    }
  });
}

// Node counts answers, not nodes: a node that dies mid-request makes the Node requester wait
// for the whole timeout. Here NUMSUB is asked again while requests are in flight; when it
// drops, what can still arrive is lowered and the request ends with what it has.
void ClassicRedisAdapter::watch_peers() {
  if (watching_) return;
  watching_ = true;
  loops().timers(RedisBus::kHomeLoop).arm(watch_timer_, kWatchMs, [this] {
    LoopScope scope(RedisBus::kHomeLoop);
    watching_ = false;
    if (pending_.empty()) return;
    peers_.ask([this](std::optional<size_t> n) {
      if (n && *n >= 1) {
        const size_t others = *n - 1;
        std::vector<std::string> ids;
        for (auto& [id, p] : pending_) {
          if (p->expected != SIZE_MAX && others < p->expected) {
            p->expected = others;
            p->shrunk = true;
            ids.push_back(id);
          }
        }
        for (const std::string& id : ids)
          check(id);
      }
      if (!pending_.empty()) watch_peers();
    });
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
          std::string id;
          Pending& p = open_request(Kind::kFetch, origin, bus_->options().requests_timeout_ms, id);
          p.sockets = std::move(mine);
          p.fetch_cb = std::move(cb);
          std::string req;
          classic::encode_fetch_request(req, uid_, id, opts);
          count_and_publish(id, std::move(req));
        });
      });
}

void ClassicRedisAdapter::all_rooms(std::function<void(std::vector<std::string>)> cb) {
  const int origin = here();
  BroadcastOptions everyone;
  everyone.flags.local = true;
  local_.fetch_sockets(everyone, [this, origin,
                                  cb = std::move(cb)](std::vector<SocketInfo> mine) mutable {
    on_home([this, origin, cb = std::move(cb), mine = std::move(mine)]() mutable {
      std::string id;
      Pending& p = open_request(Kind::kAllRooms, origin, bus_->options().requests_timeout_ms, id);
      for (SocketInfo& s : mine) {
        for (std::string& r : s.rooms)
          if (p.room_set.insert(r).second) p.rooms.push_back(std::move(r));
      }
      p.rooms_cb = std::move(cb);
      std::string req;
      classic::encode_all_rooms_request(req, uid_, id);
      count_and_publish(id, std::move(req));
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
    std::string id;
    Pending& p =
        open_request(Kind::kServerSideEmit, origin, bus_->options().requests_timeout_ms, id);
    p.ack_cb = std::move(done);
    std::string req;
    classic::encode_server_side_emit(req, uid_, id, data);
    count_and_publish(id, std::move(req));
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
    std::string id;
    Pending& pend = open_request(Kind::kBroadcastAck, origin, timeout, id);
    pend.ack_cb = std::move(done);
    std::string req;
    const bool encoded = static_cast<bool>(
        classic::encode_broadcast_request(req, uid_, id, nsp().name(), *p.source, opts));
    local_.broadcast_with_ack(p, opts, ack_id,
                              [this, id](std::string_view error, std::vector<std::string> r) {
                                auto it = pending_.find(id);
                                if (it == pending_.end()) return;
                                Pending& q = *it->second;
                                q.local_done = true;
                                q.local_error = std::string(error);
                                for (std::string& s : r)
                                  q.responses.push_back(std::move(s));
                                check(id);
                              });
    if (encoded) {
      count_and_publish(id, std::move(req));
    } else {
      SB_LOG_WARN("redis adapter: broadcast with ack not encodable to MessagePack, local only");
      auto it = pending_.find(id);
      if (it != pending_.end()) it->second->expected = 0;
      check(id);
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
  if (pending_.count(q.request_id) != 0 && !q.request_id.empty()) return;  // ours
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
  auto it = pending_.find(r->request_id);
  if (it == pending_.end()) return;  // another node's request, or ended already
  Pending& p = *it->second;
  switch (p.kind) {
    case Kind::kFetch:
      if (!r->has_sockets) return;
      ++p.received;
      for (classic::FetchedSocket& f : r->sockets) {
        SocketInfo s;
        s.id = std::move(f.id);
        s.rooms = std::move(f.rooms);
        s.handshake_json = std::move(f.handshake_json);
        s.data_json = std::move(f.data_json);
        p.sockets.push_back(std::move(s));
      }
      break;
    case Kind::kAllRooms:
      if (!r->has_rooms) return;
      ++p.received;
      for (std::string& room : r->rooms)
        if (p.room_set.insert(room).second) p.rooms.push_back(std::move(room));
      break;
    case Kind::kServerSideEmit:
      if (r->type != RequestType::kServerSideEmit) return;
      ++p.received;
      p.responses.push_back(r->data_json.empty() ? "null" : std::move(r->data_json));
      break;
    case Kind::kBroadcastAck:
      if (r->type == RequestType::kBroadcastClientCount) {
        ++p.received;
        p.client_count += r->client_count;
      } else if (r->type == RequestType::kBroadcastAck) {
        ++p.remote_acks;
        p.responses.push_back(r->data_json.empty() ? "null" : std::move(r->data_json));
      }
      break;
  }
  check(r->request_id);
}

}  // namespace sb::adapter
