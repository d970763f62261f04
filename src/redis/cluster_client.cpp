#include "redis/cluster_client.h"

#include <algorithm>
#include <charconv>

#include "common/log.h"

namespace sb::redis {
namespace {

// CRC16-XMODEM (polynomial 0x1021, initial 0), the Redis Cluster key hash; table-driven.
constexpr std::array<uint16_t, 256> make_crc_table() {
  std::array<uint16_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 8;
    for (int b = 0; b < 8; ++b)
      crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
    t[i] = static_cast<uint16_t>(crc & 0xffff);
  }
  return t;
}
constexpr std::array<uint16_t, 256> kCrcTable = make_crc_table();

uint16_t crc16(std::string_view s) {
  uint16_t crc = 0;
  for (char c : s) {
    crc = static_cast<uint16_t>((crc << 8) ^
                                kCrcTable[((crc >> 8) ^ static_cast<uint8_t>(c)) & 0xff]);
  }
  return crc;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 [::1]:6381" / "MOVED 3999 :6381" (unknown host).
bool parse_redirect(std::string_view text, uint16_t& slot, std::string& host, uint16_t& port) {
  auto sp1 = text.find(' ');
  if (sp1 == std::string_view::npos) return false;
  auto sp2 = text.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  std::string_view slot_s = text.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view endpoint = text.substr(sp2 + 1);
  auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view port_s = endpoint.substr(colon + 1);
  std::string_view host_s = endpoint.substr(0, colon);
  if (host_s.size() >= 2 && host_s.front() == '[' && host_s.back() == ']') {
    host_s = host_s.substr(1, host_s.size() - 2);
  }
  unsigned s = 0;
  unsigned p = 0;
  auto r1 = std::from_chars(slot_s.data(), slot_s.data() + slot_s.size(), s);
  auto r2 = std::from_chars(port_s.data(), port_s.data() + port_s.size(), p);
  if (r1.ec != std::errc() || r2.ec != std::errc() || s >= kClusterSlots || p == 0 || p > 65535) {
    return false;
  }
  slot = static_cast<uint16_t>(s);
  port = static_cast<uint16_t>(p);
  host = std::string(host_s);
  return true;
}

}  // namespace

uint16_t key_slot(std::string_view key) {
  // Only the part inside the first {...} is hashed, when that part is non-empty: keys sharing a
  // tag share a slot (multi-key commands, an adapter's per-namespace channels).
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return crc16(key) & (kClusterSlots - 1);
}

struct ClusterClient::Request {
  std::vector<std::string> args;  // kept for a redirect: the command is sent again elsewhere
  uint16_t slot = 0;
  uint32_t redirects = 0;
  int node = -1;  // where it was last sent
  ReplyCallback cb;
};

ClusterClient::ClusterClient(net::Loop& loop, ClusterOptions options)
    : loop_(loop), options_(std::move(options)) {
  slots_.fill(-1);
  for (const Url& seed : options_.seeds)
    node_for(seed.host, seed.port);  // created now, started by start()
}

ClusterClient::~ClusterClient() {
  // Node clients drop their callbacks uncalled (see Client::~Client): none reaches us half-gone.
  nodes_.clear();
}

void ClusterClient::start() {
  if (started_ || stopped_) return;
  started_ = true;
  for (auto& n : nodes_) {
    n->cmd->start();
    if (n->sub) n->sub->start();
  }
  refresh();
}

void ClusterClient::stop() {
  if (stopped_) return;
  stopped_ = true;
  refresh_timer_.cancel();
  refresh_timeout_.cancel();
  std::vector<std::shared_ptr<Request>> parked = std::move(parked_);
  parked_.clear();
  for (auto& req : parked) {
    if (req->cb) req->cb(Reply::error("ERR client stopped"));
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    // Index access: a callback run by stop() may add nodes (a redirect) — it sees stopped_.
    nodes_[i]->cmd->stop();
    if (nodes_[i]->sub) nodes_[i]->sub->stop();
  }
  update_state();
}

void ClusterClient::on_message(std::function<void(const PubSubMessage&)> handler) {
  on_message_ = std::move(handler);
}

void ClusterClient::on_state(std::function<void(bool)> handler) {
  on_state_ = std::move(handler);
}

std::vector<std::string> ClusterClient::masters() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) {
    if (n->master) out.push_back(n->host + ":" + std::to_string(n->port));
  }
  return out;
}

int ClusterClient::node_for(const std::string& host, uint16_t port) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->port == port && nodes_[i]->host == host) return static_cast<int>(i);
  }
  auto n = std::make_unique<Node>();
  n->host = host;
  n->port = port;
  ClientOptions o = options_.node;
  o.url.host = host;
  o.url.port = port;
  n->cmd = std::make_unique<Client>(loop_, o);
  const size_t index = nodes_.size();
  n->cmd->on_state([this, index](bool up) {
    if (!up && nodes_[index]->cmd->stopped() && !stopped_) {
      // Stopped under us: the loop is shutting down. Stop everything, so that no redirect or
      // refresh opens a new connection the loop would have to wait for.
      stop();
      return;
    }
    // A master lost may mean a failover: look at the map again soon.
    if (!up) schedule_refresh(options_.node.reconnect_min_ms);
    if (up) flush_parked();
    update_state();
  });
  if (started_ && !stopped_) n->cmd->start();
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size() - 1);
}

Client& ClusterClient::subscriber(int node) {
  Node& n = *nodes_[static_cast<size_t>(node)];
  if (!n.sub) {
    ClientOptions o = options_.node;
    o.url.host = n.host;
    o.url.port = n.port;
    if (!o.name.empty()) o.name += "-sub";
    n.sub = std::make_unique<Client>(loop_, o);
    n.sub->on_message([this](const PubSubMessage& m) {
      if (on_message_) on_message_(m);
    });
    n.sub->on_state([this](bool /*up*/) { update_state(); });
    if (started_ && !stopped_) n.sub->start();
  }
  return *n.sub;
}

// ---- commands ----

void ClusterClient::command(std::string_view key, std::span<const std::string_view> argv,
                            ReplyCallback cb) {
  auto req = std::make_shared<Request>();
  req->args.assign(argv.begin(), argv.end());
  req->slot = key_slot(key);
  req->cb = std::move(cb);
  int node = slots_[req->slot];
  if (node < 0) node = 0;  // map unknown: the first seed answers or redirects
  if (nodes_.empty() || stopped_) {
    Reply err = Reply::error(stopped_ ? "ERR client stopped" : "ERR no cluster nodes");
    loop_.defer([req, err] {
      if (req->cb) req->cb(err);
    });
    return;
  }
  send(req, node, false);
}

void ClusterClient::command(std::string_view key, std::initializer_list<std::string_view> argv,
                            ReplyCallback cb) {
  command(key, std::span<const std::string_view>(argv.begin(), argv.size()), std::move(cb));
}

bool ClusterClient::node_down(int node) const {
  const Client& c = *nodes_[static_cast<size_t>(node)]->cmd;
  // Not connected after having been (or having failed): not merely still connecting.
  return !c.connected() && (c.stats().disconnects > 0 || c.stats().connect_failures > 0);
}

// A command for a node whose connection is down is parked here, not queued in that node's
// client: if the node is gone for good, a failover gives its slots to another master, and the
// next slot map sends the command there ("commands fail over when the map refreshes").
void ClusterClient::send(const std::shared_ptr<Request>& req, int node, bool asking) {
  req->node = node;
  if (!asking && node_down(node)) {
    if (parked_.size() >= options_.node.max_pending_commands) {
      loop_.defer([req] {
        if (req->cb) req->cb(Reply::error("ERR queue full"));
      });
      return;
    }
    parked_.push_back(req);
    return;
  }
  Client& c = *nodes_[static_cast<size_t>(node)]->cmd;
  // ASKING and the command are consecutive on one connection (pipelined or queued together).
  if (asking) c.command({"ASKING"});
  std::vector<std::string_view> argv(req->args.begin(), req->args.end());
  c.command(argv, [this, req](const Reply& r) { on_result(req, r); });
}

void ClusterClient::on_result(const std::shared_ptr<Request>& req, const Reply& r) {
  if (r.is_error() && !stopped_ && req->redirects < options_.max_redirects) {
    const bool moved = starts_with(r.str, "MOVED ");
    const bool ask = starts_with(r.str, "ASK ");
    uint16_t slot = 0;
    std::string host;
    uint16_t port = 0;
    if ((moved || ask) && parse_redirect(r.str, slot, host, port)) {
      if (host.empty()) host = nodes_[static_cast<size_t>(req->node)]->host;
      const int node = node_for(host, port);
      ++req->redirects;
      ++redirects_;
      if (moved) {
        // The slot has a new owner for good: use it from now on, and reload the whole map
        // (a resharding moves many slots at once).
        slots_[slot] = static_cast<int16_t>(node);
        schedule_refresh(0);
      }
      send(req, node, ask);
      return;
    }
  }
  if (req->cb) req->cb(r);
}

void ClusterClient::flush_parked() {
  if (parked_.empty() || stopped_) return;
  std::vector<std::shared_ptr<Request>> parked = std::move(parked_);
  parked_.clear();
  for (auto& req : parked) {
    int node = slots_[req->slot];
    if (node < 0) node = req->node;
    send(req, node, false);  // parks again if that owner is still down
  }
}

void ClusterClient::command_on_masters(std::span<const std::string_view> argv,
                                       UniqueFunction<void(std::vector<Reply>)> cb) {
  struct Gather {
    std::vector<Reply> replies;
    size_t left = 0;
    UniqueFunction<void(std::vector<Reply>)> cb;
  };
  auto g = std::make_shared<Gather>();
  g->cb = std::move(cb);
  for (auto& n : nodes_) {
    if (n->master) ++g->left;
  }
  if (g->left == 0) {
    loop_.defer([g] {
      std::vector<Reply> v{Reply::error("ERR cluster slot map not loaded")};
      if (g->cb) g->cb(std::move(v));
    });
    return;
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = *nodes_[i];
    if (!n.master) continue;
    if (node_down(static_cast<int>(i))) {
      loop_.defer([g] {
        g->replies.push_back(Reply::error("ERR node down"));
        if (--g->left == 0 && g->cb) g->cb(std::move(g->replies));
      });
      continue;
    }
    n.cmd->command(argv, [g](const Reply& r) {
      g->replies.push_back(r);
      if (--g->left == 0 && g->cb) g->cb(std::move(g->replies));
    });
  }
}

// ---- slot map ----

void ClusterClient::schedule_refresh(uint32_t delay_ms) {
  if (stopped_) return;
  loop_.timers().arm(refresh_timer_, delay_ms, [this] { refresh(); });
}

void ClusterClient::refresh() {
  if (stopped_ || nodes_.empty()) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  // Ask a connected master if there is one, else any connected node, else the first seed.
  int pick = -1;
  for (size_t i = 0; i < nodes_.size() && pick < 0; ++i) {
    if (nodes_[i]->master && nodes_[i]->cmd->connected()) pick = static_cast<int>(i);
  }
  for (size_t i = 0; i < nodes_.size() && pick < 0; ++i) {
    if (nodes_[i]->cmd->connected()) pick = static_cast<int>(i);
  }
  if (pick < 0) pick = static_cast<int>(refresh_pick_++ % nodes_.size());
  refreshing_ = true;
  ++refreshes_;
  const uint64_t gen = ++refresh_gen_;
  // A node that does not answer (down, its client queueing) must not stall every later
  // refresh: past the timeout the answer is ignored and another node is asked.
  loop_.timers().arm(refresh_timeout_, std::max<uint32_t>(options_.node.connect_timeout_ms, 100),
                     [this, gen] {
                       if (gen != refresh_gen_ || !refreshing_) return;
                       refreshing_ = false;
                       ++refresh_gen_;
                       refresh();
                     });
  nodes_[static_cast<size_t>(pick)]->cmd->command(
      {"CLUSTER", "SLOTS"}, [this, pick, gen](const Reply& r) {
        if (gen != refresh_gen_) return;
        refresh_timeout_.cancel();
        refreshing_ = false;
        if (stopped_) return;
        if (r.type != Reply::Type::kArray || r.elements.empty()) {
          SB_LOG_WARN("redis cluster: CLUSTER SLOTS from {}:{} failed: {}",
                      nodes_[static_cast<size_t>(pick)]->host,
                      nodes_[static_cast<size_t>(pick)]->port, to_string(r));
          ++refresh_pick_;
          schedule_refresh(std::max<uint32_t>(options_.node.reconnect_min_ms, 100));
          return;
        }
        apply_slots(r, pick);
        if (std::exchange(refresh_again_, false)) {
          schedule_refresh(0);
        } else {
          schedule_refresh(options_.refresh_interval_ms);
        }
      });
}

// CLUSTER SLOTS: [[start, end, [host, port, id, ...], replica...], ...]. An empty host means
// "the node you asked" (Redis 7 with unknown endpoints).
void ClusterClient::apply_slots(const Reply& r, int asked) {
  std::array<int16_t, kClusterSlots> next;
  next.fill(-1);
  std::vector<bool> master(nodes_.size(), false);
  for (const Reply& range : r.elements) {
    if (range.type != Reply::Type::kArray || range.elements.size() < 3) continue;
    const Reply& owner = range.elements[2];
    if (owner.type != Reply::Type::kArray || owner.elements.size() < 2) continue;
    const int64_t first = range.elements[0].integer;
    const int64_t last = range.elements[1].integer;
    if (first < 0 || last >= kClusterSlots || first > last) continue;
    std::string host = owner.elements[0].str;
    if (host.empty() || host == "?") host = nodes_[static_cast<size_t>(asked)]->host;
    const int64_t port = owner.elements[1].integer;
    if (port <= 0 || port > 65535) continue;
    const int node = node_for(host, static_cast<uint16_t>(port));
    if (master.size() < nodes_.size()) master.resize(nodes_.size(), false);
    master[static_cast<size_t>(node)] = true;
    for (int64_t s = first; s <= last; ++s)
      next[static_cast<size_t>(s)] = static_cast<int16_t>(node);
  }
  slots_ = next;
  for (size_t i = 0; i < nodes_.size(); ++i)
    nodes_[i]->master = i < master.size() && master[i];
  map_ready_ = true;
  for (auto& [channel, node] : shard_channels_)
    place_subscription(channel, node);
  flush_parked();
  update_state();
}

// ---- sharded pub/sub ----

void ClusterClient::spublish(std::string_view channel, std::string_view payload, ReplyCallback cb) {
  command(channel, {"SPUBLISH", channel, payload}, std::move(cb));
}

void ClusterClient::place_subscription(const std::string& channel, int& node) {
  const int owner = slots_[key_slot(channel)];
  if (owner == node) return;
  // The old owner dropped the channel itself when the slot left it (and would answer a
  // SUNSUBSCRIBE with MOVED): forget it there without a command.
  if (node >= 0 && nodes_[static_cast<size_t>(node)]->sub) {
    nodes_[static_cast<size_t>(node)]->sub->forget_ssubscription(channel);
  }
  node = owner;
  if (owner >= 0) subscriber(owner).ssubscribe(channel);
}

void ClusterClient::ssubscribe(std::string_view channel) {
  auto [it, added] = shard_channels_.emplace(std::string(channel), -1);
  if (!added) return;
  if (map_ready_) place_subscription(it->first, it->second);
  update_state();
}

void ClusterClient::sunsubscribe(std::string_view channel) {
  auto it = shard_channels_.find(channel);
  if (it == shard_channels_.end()) return;
  if (it->second >= 0 && nodes_[static_cast<size_t>(it->second)]->sub) {
    nodes_[static_cast<size_t>(it->second)]->sub->sunsubscribe(channel);
  }
  shard_channels_.erase(it);
}

void ClusterClient::update_state() {
  bool up = map_ready_ && !stopped_;
  for (const auto& n : nodes_) {
    if (!up) break;
    if (!n->master) continue;
    if (!n->cmd->connected() || (n->sub && !n->sub->connected())) up = false;
  }
  if (up == up_) return;
  up_ = up;
  SB_LOG_INFO("redis cluster: {}", up ? "all masters connected" : "not fully connected");
  if (on_state_) on_state_(up);
}

}  // namespace sb::redis
