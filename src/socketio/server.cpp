#include "socketio/server.h"

#include "net/loop.h"
#include "socketio/client.h"
#include "socketio/sio_metrics.h"

namespace sb::socketio {

Server::Server(Loops& loops, ServerOptions options) : loops_(loops), options_(std::move(options)) {
  per_loop_ = std::make_unique<PerLoop[]>(static_cast<size_t>(loops.size()));
  main_ = &of("/");
  sio_metrics();  // registered up front: /metrics shows the series from the start
}

Server::~Server() = default;

Server::PerLoop::~PerLoop() {
  for (Client* c : clients)
    delete c;  // NOLINT(cppcoreguidelines-owning-memory): the list owns its clients
}

Namespace& Server::of(std::string_view name) {
  std::lock_guard lock(nsps_mu_);
  auto it = nsps_.find(name);
  if (it != nsps_.end()) return *it->second;
  auto nsp = std::make_unique<Namespace>(*this, std::string(name));
  Namespace& ref = *nsp;
  nsps_.emplace(std::string(name), std::move(nsp));
  return ref;
}

Namespace& Server::of(NamespaceMatcher match) {
  std::lock_guard lock(nsps_mu_);
  // Node names parent namespaces "/_<n>"; they are not reachable by name.
  auto nsp = std::make_unique<Namespace>(*this, "/_" + std::to_string(parents_.size()));
  nsp->matcher_ = std::move(match);
  parents_.push_back(std::move(nsp));
  return *parents_.back();
}

Namespace& Server::of(const std::regex& pattern) {
  return of([pattern](std::string_view name, const Args&) {
    return std::regex_match(name.begin(), name.end(), pattern);
  });
}

Namespace* Server::find(std::string_view name) const {
  std::lock_guard lock(nsps_mu_);
  auto it = nsps_.find(name);
  return it != nsps_.end() ? it->second.get() : nullptr;
}

Namespace* Server::match_dynamic(std::string_view name, const Args& auth) {
  std::vector<Namespace*> parents;
  {
    std::lock_guard lock(nsps_mu_);
    for (auto& p : parents_)
      parents.push_back(p.get());
  }
  // The matchers are application code: run them outside the lock.
  for (Namespace* parent : parents) {
    if (!parent->matcher_(name, auth)) continue;
    std::lock_guard lock(nsps_mu_);
    auto it = nsps_.find(name);  // another loop may have created it meanwhile
    if (it != nsps_.end()) return it->second.get();
    auto child = std::make_unique<Namespace>(*this, std::string(name), parent);
    Namespace* ref = child.get();
    nsps_.emplace(std::string(name), std::move(child));
    std::lock_guard clock(parent->children_mu_);
    parent->children_.push_back(ref);
    return ref;
  }
  return nullptr;
}

Client& Server::open(std::unique_ptr<Link> link) {
  LoopScope scope(link->loop());
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): owned by the list until closed()
  return adopt(new Client(*this, std::move(link)));
}

Client& Server::adopt(Client* c) {
  auto& clients = per_loop_[static_cast<size_t>(c->loop())].clients;
  c->slot_ = static_cast<uint32_t>(clients.size());
  clients.push_back(c);
  c->start();
  return *c;
}

size_t Server::client_count(int loop) const {
  return per_loop_[static_cast<size_t>(loop)].clients.size();
}

void Server::closed(Client& c, std::string_view reason) {
  const int loop = c.loop();
  LoopScope scope(loop);
  c.on_transport_close(reason);
  auto& clients = per_loop_[static_cast<size_t>(loop)].clients;
  if (c.slot_ >= clients.size() || clients[c.slot_] != &c) return;  // already unlinked
  Client* last = clients.back();
  clients[c.slot_] = last;
  last->slot_ = c.slot_;
  clients.pop_back();
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the list owned it
  retire(std::unique_ptr<Client>(&c));
}

void Server::retire(std::unique_ptr<Client> c) {
  const int loop = c->loop();
  per_loop_[static_cast<size_t>(loop)].dead_clients.push_back(std::move(c));
  schedule_reap(loop);
}

void Server::retire(std::unique_ptr<Socket> s) {
  const int loop = s->loop();
  per_loop_[static_cast<size_t>(loop)].dead_sockets.push_back(std::move(s));
  schedule_reap(loop);
}

// Sockets and clients are freed after the turn in which they went away, never inside a
// callback: application code (and our own loops over them) may still hold them.
void Server::schedule_reap(int loop) {
  PerLoop& pl = per_loop_[static_cast<size_t>(loop)];
  if (pl.reap_scheduled) return;
  pl.reap_scheduled = true;
  loops_.defer(loop, [this, loop] {
    PerLoop& p = per_loop_[static_cast<size_t>(loop)];
    p.reap_scheduled = false;
    auto sockets = std::move(p.dead_sockets);
    auto clients = std::move(p.dead_clients);
    p.dead_sockets.clear();
    p.dead_clients.clear();
    sockets.clear();  // before their clients: a Socket refers to its Client
    clients.clear();
  });
}

void Server::on_open(engineio::Socket& s) {
  LoopScope scope(s.loop().index());
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): owned by the list until closed()
  Client& c = adopt(new Client(*this, s));
  s.user_data = &c;
}

void Server::on_message(engineio::Socket& s, std::string_view text) {
  auto* c = static_cast<Client*>(s.user_data);
  if (c == nullptr) return;
  LoopScope scope(c->loop());
  c->on_text(text);
}

void Server::on_binary(engineio::Socket& s, std::span<const uint8_t> data) {
  auto* c = static_cast<Client*>(s.user_data);
  if (c == nullptr) return;
  LoopScope scope(c->loop());
  c->on_binary(data);
}

void Server::on_close(engineio::Socket& s, std::string_view reason) {
  auto* c = static_cast<Client*>(s.user_data);
  if (c == nullptr) return;
  s.user_data = nullptr;
  c->detach();
  closed(*c, reason);
}

}  // namespace sb::socketio
