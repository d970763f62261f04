#pragma once
// What a node answers about itself to another node's request, gathered from every loop that
// has sockets of the namespace (each loop reads only its own sockets) and delivered on loop 0.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/redis_bus.h"
#include "socketio/in_memory_adapter.h"
#include "socketio/namespace.h"
#include "socketio/runtime.h"
#include "socketio/server.h"

namespace sb::adapter {

/// Runs per_loop(loop) on every loop with sockets of `nsp` (loop 0 always, at once — call it on
/// loop 0), then done(results) on loop 0.
template <typename T>
void gather_on_home(socketio::Namespace& nsp, std::function<T(int)> per_loop,
                    std::function<void(std::vector<T>)> done) {
  struct State {
    std::vector<T> results;
    size_t pending = 0;
    std::function<void(std::vector<T>)> done;
  };
  socketio::Loops& loops = nsp.server().loops();
  auto st = std::make_shared<State>();
  st->done = std::move(done);
  auto fn = std::make_shared<const std::function<T(int)>>(std::move(per_loop));
  constexpr int kHome = RedisBus::kHomeLoop;
  for (int i = 0; i < loops.size(); ++i)
    if (i != kHome && nsp.loop_count_hint(i) > 0) ++st->pending;
  st->results.push_back((*fn)(kHome));
  if (st->pending == 0) {
    st->done(std::move(st->results));
    return;
  }
  for (int i = 0; i < loops.size(); ++i) {
    if (i == kHome || nsp.loop_count_hint(i) == 0) continue;
    loops.post(i, [&loops, st, fn, i] {
      T r;
      {
        socketio::LoopScope scope(i);
        r = (*fn)(i);
      }
      loops.post(kHome, [st, r = std::move(r)]() mutable {
        socketio::LoopScope scope(kHome);
        st->results.push_back(std::move(r));
        if (--st->pending == 0) st->done(std::move(st->results));
      });
    });
  }
}

/// The `{id,handshake,rooms,data}` members (comma-joined) of the local sockets `opts` selects,
/// for a fetchSockets answer; `done` runs on loop 0.
void gather_fetch_answer(socketio::Namespace& nsp, socketio::InMemoryAdapter& local,
                         const socketio::BroadcastOptions& opts,
                         std::function<void(std::string members)> done);

/// `["event",a,b]` → `event` and `a,b` (raw JSON members, what socketio::Args takes).
bool split_event_data(std::string_view data_json, std::string& event, std::string& args);
/// `[event, …args]` as JSON (binary arguments stay placeholders: requests travel as JSON).
std::string event_data_json(std::string_view event, std::span<const socketio::Json> args);

}  // namespace sb::adapter
