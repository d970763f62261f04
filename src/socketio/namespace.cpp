#include "socketio/namespace.h"

#include <stdexcept>
#include <unordered_set>

#include "socketio/client.h"
#include "socketio/encoder.h"
#include "socketio/in_memory_adapter.h"
#include "socketio/server.h"

namespace sb::socketio {

Adapter::~Adapter() = default;

// Built on fetch_sockets so every adapter has it: the union of the rooms of every socket (each
// socket is in its own room, so socket ids are rooms too, as in Node).
void Adapter::all_rooms(std::function<void(std::vector<std::string>)> cb) {
  fetch_sockets({}, [cb = std::move(cb)](std::vector<SocketInfo> sockets) {
    std::unordered_set<std::string> seen;
    std::vector<std::string> rooms;
    for (SocketInfo& s : sockets) {
      for (std::string& r : s.rooms)
        if (seen.insert(r).second) rooms.push_back(std::move(r));
    }
    cb(std::move(rooms));
  });
}

Namespace::Namespace(Server& server, std::string name, Namespace* parent)
    : server_(server), name_(std::move(name)), parent_(parent) {
  const auto loops = static_cast<size_t>(server.loops().size());
  per_loop_ = std::make_unique<PerLoop[]>(loops);
  loop_counts_ = std::make_unique<std::atomic<uint32_t>[]>(loops);
  for (size_t i = 0; i < loops; ++i)
    loop_counts_[i].store(0, std::memory_order_relaxed);
  adapter_ = server.options().adapter ? server.options().adapter(*this)
                                      : std::make_unique<InMemoryAdapter>(*this);
}

Namespace::~Namespace() = default;

Socket* Namespace::find(int loop, std::string_view id) const {
  if (loop < 0 || loop >= server_.loops().size()) return nullptr;
  Socket* s = local(loop).sockets.find(id);
  return s != nullptr && s->connected() ? s : nullptr;
}

void Namespace::use(Middleware m) {
  if (middleware_.size() >= kMaxMiddlewares) {
    throw std::length_error("socket.io: too many middlewares on namespace " + name_);
  }
  middleware_.push_back(std::move(m));
}

void Namespace::on_server_side(std::string event, ServerSideHandler h) {
  server_side_[std::move(event)].push_back(std::move(h));
}

bool Namespace::dispatch_server_side(std::string_view event, const Args& args,
                                     const ServerSideAck& ack) {
  auto it = server_side_.find(event);
  if (it == server_side_.end() || it->second.empty()) return false;
  for (const ServerSideHandler& h : it->second)
    h(args, ack);
  return true;
}

size_t Namespace::local_count(int loop) const {
  return local(loop).connected;
}

std::vector<Namespace*> Namespace::children() const {
  std::lock_guard lock(children_mu_);
  return children_;
}

size_t Namespace::middleware_count() const {
  return (parent_ ? parent_->middleware_.size() : 0) + middleware_.size();
}

const Middleware& Namespace::middleware_at(size_t i) const {
  const size_t inherited = parent_ ? parent_->middleware_.size() : 0;
  return i < inherited ? parent_->middleware_[i] : middleware_[i - inherited];
}

void Namespace::add(Socket& s) {
  local(s.loop()).sockets.insert(&s);
  run_middleware(s, 0);
}

// Each middleware gets a Next bound to its position: a late or repeated call is recognised
// (middleware_index_ moved on, or the socket is gone) and ignored.
void Namespace::run_middleware(Socket& s, size_t index) {
  if (index >= middleware_count()) {
    do_connect(s);
    return;
  }
  s.middleware_index_ = static_cast<uint16_t>(index);
  const Middleware& m = middleware_at(index);
  m(s, Next(s.ref(), index));
}

void Namespace::middleware_done(Socket& s, size_t index, const ConnectError* err) {
  if (!s.client().open()) return;  // the client's close disconnects the socket
  if (err != nullptr) {
    std::string out;
    encode_connect_error(out, name_, err->message, err->data_json);
    s.client().send(out);
    s.on_close("connect error");  // never connected: no events, just unlinked
    return;
  }
  run_middleware(s, index + 1);
}

void Namespace::do_connect(Socket& s) {
  PerLoop& pl = local(s.loop());
  ++pl.connected;
  loop_counts_[static_cast<size_t>(s.loop())].fetch_add(1, std::memory_order_relaxed);
  s.on_connected();
  s.client().on_joined();
  // Parent handlers first (a child exists because the parent accepted it), then the child's.
  // The socket may disconnect inside a handler: it stays valid until the end of the turn.
  if (parent_) {
    for (size_t i = 0; i < parent_->on_connection_.size() && s.connected(); ++i)
      parent_->on_connection_[i](s);
  }
  for (size_t i = 0; i < on_connection_.size() && s.connected(); ++i)
    on_connection_[i](s);
  // The connection handlers registered most of what this socket will ever hold: give back
  // the joined rooms' growth slack, which would otherwise stay for the life of an idle
  // connection (a no-op when it is already exact; handler tables are built exact).
  if (s.connected() && s.rare_) s.rare_->rooms.shrink_to_fit();
}

void Namespace::remove(Socket& s) {
  PerLoop& pl = local(s.loop());
  pl.sockets.erase(s.id());
  if (s.connected()) {
    --pl.connected;
    loop_counts_[static_cast<size_t>(s.loop())].fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace sb::socketio
