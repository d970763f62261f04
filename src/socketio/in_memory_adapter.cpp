#include "socketio/in_memory_adapter.h"

#include <limits>

#include "socketio/client.h"
#include "socketio/namespace.h"
#include "socketio/server.h"
#include "socketio/sio_metrics.h"
#include "socketio/socket.h"

namespace sb::socketio {
namespace {

// What a broadcast carries to the other loops: one immutable allocation shared by all of them,
// so a post costs one atomic increment whatever the targeting.
struct Job {
  OutPacket packet;
  BroadcastOptions opts;
};

constexpr std::string_view kTimedOut = "operation has timed out";

}  // namespace

InMemoryAdapter::InMemoryAdapter(Namespace& nsp) : Adapter(nsp) {
  per_loop_ = std::make_unique<PerLoop[]>(static_cast<size_t>(nsp.server().loops().size()));
}

InMemoryAdapter::~InMemoryAdapter() = default;

void InMemoryAdapter::add_all(Socket& s, std::span<const std::string> rooms) {
  PerLoop& pl = local(s.loop());
  for (const std::string& r : rooms) {
    if (r == s.id()) continue;  // the own room is implicit (own_member)
    auto it = pl.rooms.find(r);
    if (it == pl.rooms.end()) it = pl.rooms.emplace(r, std::unordered_set<Socket*>()).first;
    it->second.insert(&s);
  }
}

void InMemoryAdapter::del(Socket& s, std::string_view room) {
  if (room == s.id()) return;  // the own room is implicit
  PerLoop& pl = local(s.loop());
  auto it = pl.rooms.find(room);
  if (it == pl.rooms.end()) return;
  it->second.erase(&s);
  if (it->second.empty()) pl.rooms.erase(it);
}

void InMemoryAdapter::del_all(Socket& s) {
  if (!s.rare_) return;  // only the own room, which is implicit
  for (const std::string& r : s.rare_->rooms)
    del(s, r);
}

size_t InMemoryAdapter::room_size(int loop, std::string_view room) const {
  const PerLoop& pl = local(loop);
  auto it = pl.rooms.find(room);
  const size_t joined = it == pl.rooms.end() ? 0 : it->second.size();
  return joined + (own_member(loop, room) != nullptr ? 1 : 0);
}

Socket* InMemoryAdapter::own_member(int loop, std::string_view room) const {
  Socket* s = nsp().find(loop, room);
  // find() matches the id; the socket is in its own room from connect to disconnect.
  return s != nullptr && s->id() == room ? s : nullptr;
}

// Selection without a set per broadcast: sockets are stamped with a loop-local epoch, one value
// meaning "excluded" and the next "already selected", so a socket in several target rooms is
// taken once and a socket in an except room never.
void InMemoryAdapter::select(int loop, const BroadcastOptions& opts, std::vector<Socket*>& out) {
  PerLoop& pl = local(loop);
  if (pl.epoch >= std::numeric_limits<uint32_t>::max() - 2) reset_marks(loop);
  const uint32_t excluded = ++pl.epoch;
  const uint32_t selected = ++pl.epoch;
  for (const std::string& r : opts.except) {
    if (Socket* own = own_member(loop, r)) own->mark_ = excluded;
    auto it = pl.rooms.find(r);
    if (it == pl.rooms.end()) continue;
    for (Socket* s : it->second)
      s->mark_ = excluded;
  }
  if (opts.rooms.empty()) {
    nsp().for_each_local(loop, [&](Socket& s) {
      if (s.mark_ != excluded) out.push_back(&s);
    });
    return;
  }
  for (const std::string& r : opts.rooms) {
    if (Socket* own = own_member(loop, r);
        own != nullptr && own->mark_ != excluded && own->mark_ != selected) {
      own->mark_ = selected;
      out.push_back(own);
    }
    auto it = pl.rooms.find(r);
    if (it == pl.rooms.end()) continue;
    for (Socket* s : it->second) {
      if (s->mark_ == excluded || s->mark_ == selected) continue;
      s->mark_ = selected;
      out.push_back(s);
    }
  }
}

// Marks are set only on sockets found through a room or as their own room's member (connected):
// clearing those leaves no mark that a restarted epoch could take for its own.
void InMemoryAdapter::reset_marks(int loop) {
  PerLoop& pl = local(loop);
  nsp().for_each_local(loop, [](Socket& s) { s.mark_ = 0; });
  for (auto& [room, members] : pl.rooms) {
    for (Socket* s : members)
      s->mark_ = 0;
  }
  pl.epoch = 0;
}

std::vector<Socket*> InMemoryAdapter::select_local(int loop, const BroadcastOptions& opts) {
  std::vector<Socket*> out;
  select(loop, opts, out);
  return out;
}

// Sending can re-enter (a send that closes a connection runs disconnect handlers, which may
// broadcast), so the receivers are taken into a vector of our own — the loop's scratch
// vector, borrowed — before the first send; sockets are freed only at the end of the turn.
size_t InMemoryAdapter::deliver(int loop, const OutPacket& p, const BroadcastOptions& opts,
                                const std::function<void(Socket&)>& before_send) {
  PerLoop& pl = local(loop);
  std::vector<Socket*> list;
  list.swap(pl.scratch);
  list.clear();
  select(loop, opts, list);
  size_t sent = 0;
  size_t dropped = 0;
  if (!list.empty()) {
    // Wrapped once for this loop: from here on, queueing is a non-atomic increment.
    const engineio::LocalPacket text(p.text);
    std::vector<engineio::LocalPacket> attachments;
    attachments.reserve(p.attachments.size());
    for (const auto& a : p.attachments)
      attachments.emplace_back(a);
    for (Socket* s : list) {
      Client& client = s->client();
      if (!s->connected() || !client.link_open()) continue;
      // Volatile: skipped for a receiver whose transport cannot take it now (one call, no
      // allocation).
      if (opts.flags.volatile_ && !client.writable()) {
        ++dropped;
        continue;
      }
      if (before_send) before_send(*s);
      client.send_shared(text);
      for (const auto& a : attachments) {
        if (!client.link_open()) break;
        client.send_shared(a);
      }
      ++sent;
    }
  }
  list.clear();
  if (list.capacity() > pl.scratch.capacity()) pl.scratch.swap(list);
  // Counted once per loop and broadcast, into this loop's own slot.
  if (sent != 0) sio_metrics().broadcast_deliveries.inc(static_cast<int64_t>(sent));
  if (dropped != 0) sio_metrics().volatile_dropped.inc(static_cast<int64_t>(dropped));
  return sent;
}

size_t InMemoryAdapter::deliver_local(int loop, const OutPacket& p, const BroadcastOptions& opts) {
  return deliver(loop, p, opts, nullptr);
}

void InMemoryAdapter::on_each_loop(int origin, std::function<void(int)> fn) {
  Loops& loops = nsp().server().loops();
  auto shared = std::make_shared<const std::function<void(int)>>(std::move(fn));
  for (int i = 0; i < loops.size(); ++i) {
    if (i == origin || nsp().loop_count_hint(i) == 0) continue;
    loops.post(i, [shared, i] {
      LoopScope scope(i);
      (*shared)(i);
    });
  }
  if (origin >= 0) (*shared)(origin);
}

void InMemoryAdapter::broadcast(const OutPacket& p, const BroadcastOptions& opts) {
  const int origin = current_loop();
  Loops& loops = nsp().server().loops();
  std::shared_ptr<const Job> job;
  for (int i = 0; i < loops.size(); ++i) {
    if (i == origin || nsp().loop_count_hint(i) == 0) continue;
    if (!job) job = std::make_shared<const Job>(Job{p, opts});
    loops.post(i, [this, job, i] {
      LoopScope scope(i);
      deliver(i, job->packet, job->opts, nullptr);
    });
  }
  if (origin >= 0) deliver(origin, p, opts, nullptr);
}

void InMemoryAdapter::broadcast_with_ack(const OutPacket& p, const BroadcastOptions& opts,
                                         uint64_t ack_id, BroadcastAckCallback done) {
  int origin = current_loop();
  Loops& loops = nsp().server().loops();
  if (origin < 0) {
    // Outside the loops: the collector needs a home loop; run the whole broadcast on loop 0.
    auto job = std::make_shared<const Job>(Job{p, opts});
    loops.post(0, [this, job, ack_id, done = std::move(done)]() mutable {
      LoopScope scope(0);
      broadcast_with_ack(job->packet, job->opts, ack_id, std::move(done));
    });
    return;
  }
  PerLoop& pl = local(origin);
  const uint64_t id = pl.next_collector++;
  auto c = std::make_unique<Collector>();
  c->done = std::move(done);
  Collector& col = *c;
  pl.collectors.emplace(id, std::move(c));
  loops.timers(origin).arm(col.timer, opts.flags.timeout_ms.value_or(kDefaultAckTimeoutMs),
                           [this, origin, id] { finish_collector(origin, id, kTimedOut); });

  auto job = std::make_shared<const Job>(Job{p, opts});
  for (int i = 0; i < loops.size(); ++i) {
    if (i == origin || nsp().loop_count_hint(i) == 0) continue;
    ++col.loops_pending;
    loops.post(i, [this, job, i, origin, id, ack_id] {
      LoopScope scope(i);
      const size_t n = deliver(i, job->packet, job->opts,
                               [&](Socket& s) { s.register_broadcast_ack(ack_id, origin, id); });
      nsp().server().loops().post(origin, [this, origin, id, n] {
        LoopScope scope2(origin);
        auto it = local(origin).collectors.find(id);
        if (it == local(origin).collectors.end()) return;
        --it->second->loops_pending;
        it->second->expected += n;
        check_collector(origin, id);
      });
    });
  }
  col.expected +=
      deliver(origin, p, opts, [&](Socket& s) { s.register_broadcast_ack(ack_id, origin, id); });
  check_collector(origin, id);
}

void InMemoryAdapter::on_broadcast_ack(uint64_t collector, std::string first_arg) {
  const int loop = current_loop();
  if (loop < 0) return;
  auto it = local(loop).collectors.find(collector);
  if (it == local(loop).collectors.end()) return;  // finished (timed out) already
  it->second->responses.push_back(std::move(first_arg));
  check_collector(loop, collector);
}

void InMemoryAdapter::check_collector(int loop, uint64_t id) {
  auto it = local(loop).collectors.find(id);
  if (it == local(loop).collectors.end()) return;
  const Collector& c = *it->second;
  if (c.loops_pending == 0 && c.responses.size() >= c.expected) finish_collector(loop, id, {});
}

void InMemoryAdapter::finish_collector(int loop, uint64_t id, std::string_view error) {
  auto& collectors = local(loop).collectors;
  auto it = collectors.find(id);
  if (it == collectors.end()) return;
  std::unique_ptr<Collector> c = std::move(it->second);
  collectors.erase(it);
  if (c->done) c->done(error, std::move(c->responses));
}

template <typename T>
void InMemoryAdapter::gather(int origin, std::function<T(int)> per_loop,
                             std::function<void(std::vector<T>)> done) {
  Loops& loops = nsp().server().loops();
  if (origin < 0) {
    loops.post(0, [this, per_loop = std::move(per_loop), done = std::move(done)]() mutable {
      LoopScope scope(0);
      gather<T>(0, std::move(per_loop), std::move(done));
    });
    return;
  }
  // Results come back to the origin loop only: the state is touched there alone.
  struct State {
    std::vector<T> results;
    size_t pending = 0;
    std::function<void(std::vector<T>)> done;
  };
  auto st = std::make_shared<State>();
  st->done = std::move(done);
  auto fn = std::make_shared<const std::function<T(int)>>(std::move(per_loop));
  for (int i = 0; i < loops.size(); ++i) {
    if (i == origin || nsp().loop_count_hint(i) == 0) continue;
    ++st->pending;
  }
  st->results.push_back((*fn)(origin));
  if (st->pending == 0) {
    st->done(std::move(st->results));
    return;
  }
  for (int i = 0; i < loops.size(); ++i) {
    if (i == origin || nsp().loop_count_hint(i) == 0) continue;
    loops.post(i, [&loops, st, fn, i, origin]() mutable {
      T r;
      {
        LoopScope scope(i);
        r = (*fn)(i);
      }
      loops.post(origin, [st, origin, r = std::move(r)]() mutable {
        LoopScope scope(origin);
        st->results.push_back(std::move(r));
        if (--st->pending == 0) st->done(std::move(st->results));
      });
    });
  }
}

void InMemoryAdapter::sockets(std::vector<std::string> rooms,
                              std::function<void(std::vector<std::string>)> cb) {
  BroadcastOptions o;
  o.rooms = std::move(rooms);
  gather<std::vector<std::string>>(
      current_loop(),
      [this, o](int loop) {
        std::vector<std::string> ids;
        for (Socket* s : select_local(loop, o))
          ids.emplace_back(s->id());
        return ids;
      },
      [cb = std::move(cb)](std::vector<std::vector<std::string>> parts) {
        std::vector<std::string> all;
        for (auto& p : parts) {
          for (auto& id : p)
            all.push_back(std::move(id));
        }
        cb(std::move(all));
      });
}

void InMemoryAdapter::socket_rooms(
    std::string id, std::function<void(std::optional<std::vector<std::string>>)> cb) {
  using R = std::optional<std::vector<std::string>>;
  gather<R>(
      current_loop(),
      [this, id](int loop) -> R {
        if (Socket* s = nsp().find(loop, id)) return std::vector<std::string>(s->rooms());
        return std::nullopt;
      },
      [cb = std::move(cb)](std::vector<R> parts) {
        for (auto& p : parts)
          if (p) return cb(std::move(p));
        cb(std::nullopt);
      });
}

void InMemoryAdapter::fetch_sockets(const BroadcastOptions& opts,
                                    std::function<void(std::vector<SocketInfo>)> cb) {
  gather<std::vector<SocketInfo>>(
      current_loop(),
      [this, opts](int loop) {
        std::vector<SocketInfo> out;
        for (Socket* s : select_local(loop, opts))
          out.push_back(SocketInfo{std::string(s->id()), loop, s->rooms()});
        return out;
      },
      [cb = std::move(cb)](std::vector<std::vector<SocketInfo>> parts) {
        std::vector<SocketInfo> all;
        for (auto& p : parts) {
          for (auto& s : p)
            all.push_back(std::move(s));
        }
        cb(std::move(all));
      });
}

void InMemoryAdapter::add_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) {
  on_each_loop(current_loop(), [this, opts, rooms](int loop) {
    for (Socket* s : select_local(loop, opts))
      s->join(rooms);
  });
}

void InMemoryAdapter::del_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) {
  on_each_loop(current_loop(), [this, opts, rooms](int loop) {
    for (Socket* s : select_local(loop, opts)) {
      for (const std::string& r : rooms)
        s->leave(r);
    }
  });
}

void InMemoryAdapter::disconnect_sockets(const BroadcastOptions& opts, bool close) {
  on_each_loop(current_loop(), [this, opts, close](int loop) {
    for (Socket* s : select_local(loop, opts))
      s->disconnect(close);
  });
}

}  // namespace sb::socketio
