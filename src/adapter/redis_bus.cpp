#include "adapter/redis_bus.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "adapter/adapter_metrics.h"
#include "common/log.h"
#include "net/loop.h"
#include "net/loop_group.h"

namespace sb::adapter {
namespace {

// How often the cluster client reloads the slot map by itself: a slot moved without any
// command of ours being redirected (a quiet resharding) moves our shard subscriptions within
// this time. CLUSTER SLOTS of a small cluster is a few hundred bytes.
constexpr uint32_t kClusterRefreshMs = 1000;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

redis::ClientOptions client_options(const redis::Url& url, const RedisAdapterOptions& o,
                                    const char* name) {
  redis::ClientOptions c;
  c.url = url;
  c.name = name;
  c.max_pending_commands = o.max_queue;
  return c;
}

// A publish's reply: an error means Redis never got it (queue full during an outage, stopped).
void count_publish(const redis::Reply& r) {
  if (r.is_error()) metrics::publish_dropped().inc();
}

// A PUBSUB NUMSUB / SHARDNUMSUB reply: [channel, count].
std::optional<size_t> numsub_count(const redis::Reply& r) {
  if (r.type != redis::Reply::Type::kArray || r.elements.size() < 2 ||
      r.elements[1].type != redis::Reply::Type::kInteger) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::max<int64_t>(0, r.elements[1].integer));
}

}  // namespace

RedisBus::RedisBus(net::LoopGroup& loops, const redis::Url& url, RedisAdapterOptions options)
    : home_(loops.loop(kHomeLoop)),
      options_(std::move(options)),
      pub_(home_, client_options(url, options_, "switchboard-pub")),
      sub_(home_, client_options(url, options_, "switchboard-sub")) {
  // Registered before any loop thread touches them.
  metrics::published();
  metrics::publish_skipped();
  metrics::publish_dropped();
  metrics::received();
  metrics::decode_errors();
  metrics::requests();
  metrics::requests_partial();
  metrics::requests_timed_out();
  metrics::requests_rejected();
}

RedisBus::~RedisBus() = default;

void RedisBus::start() {
  home_.post([w = weak_from_this()] {
    if (auto self = w.lock()) self->start_now();
  });
}

void RedisBus::start_now() {
  if (stopped_) return;
  sub_.on_message([this](const redis::PubSubMessage& m) { on_message(m); });
  pub_.on_state([this](bool) { on_client_state(); });
  sub_.on_state([this](bool) { on_client_state(); });
  pub_.start();
  if (options_.mode == RedisAdapterMode::kSharded) {
    detect_topology();
  } else {
    use_topology(Topology::kStandalone);
  }
}

// Asked on the publisher before anything else is sent (deferred ops wait): a cluster node
// answers `cluster_enabled:1`. A lost connection asks again on the next one; any other error
// (an ACL without INFO, an old server) means a plain server.
void RedisBus::detect_topology() {
  pub_.command({"INFO", "cluster"}, [this](const redis::Reply& r) {
    if (stopped_ || pub_.stopped() || topology_ != Topology::kUnknown) return;
    if (r.is_error() && r.str == "ERR connection lost") {
      detect_topology();
      return;
    }
    const bool cluster = !r.is_error() && r.str.find("cluster_enabled:1") != std::string::npos;
    use_topology(cluster ? Topology::kCluster : Topology::kStandalone);
  });
}

void RedisBus::use_topology(Topology t) {
  topology_ = t;
  if (t == Topology::kCluster) {
    redis::ClusterOptions co;
    co.seeds.push_back(pub_.options().url);
    co.node = client_options(pub_.options().url, options_, "switchboard");
    co.refresh_interval_ms = kClusterRefreshMs;
    cluster_ = std::make_unique<redis::ClusterClient>(home_, std::move(co));
    cluster_->on_message([this](const redis::PubSubMessage& m) { on_message(m); });
    cluster_->on_state([this](bool) { on_client_state(); });
    {
      std::lock_guard lock(mu_);
      for (const auto& [channel, l] : shard_channels_)
        cluster_->ssubscribe(channel);
    }
    SB_LOG_INFO(
        "redis adapter: {}:{} is a Redis Cluster node: sharded pub/sub goes to the slot "
        "owner of each channel",
        pub_.options().url.host, pub_.options().url.port);
    cluster_->start();
    pub_.stop();  // it only asked; the cluster client has its own connection per master
  } else if (!stopped_) {
    sub_.start();
  }
  std::vector<UniqueFunction<void()>> ops = std::move(deferred_);
  deferred_.clear();
  for (auto& op : ops)
    op();
}

bool RedisBus::defer(UniqueFunction<void()> op) {
  if (deferred_.size() >= options_.max_queue) return false;
  deferred_.push_back(std::move(op));
  return true;
}

void RedisBus::stop() {
  home_.post([w = weak_from_this()] {
    auto self = w.lock();
    if (!self) return;
    self->stopped_ = true;
    self->pub_.stop();
    self->sub_.stop();
    if (self->cluster_) self->cluster_->stop();
    // What waited for the topology gets the stopped clients' refusals.
    if (self->topology_ == Topology::kUnknown) self->use_topology(Topology::kStandalone);
    self->on_client_state();
  });
}

bool RedisBus::ready() const {
  const int64_t at = ready_at_ms_.load(std::memory_order_acquire);
  return connected() && at >= 0 && steady_ms() >= at;
}

void RedisBus::on_client_state() {
  bool up = false;
  if (topology_ == Topology::kCluster) {
    up = cluster_ && cluster_->connected();
  } else if (topology_ == Topology::kStandalone) {
    up = pub_.connected() && sub_.connected();
  }
  const bool was = connected_.exchange(up, std::memory_order_acq_rel);
  if (up == was) return;
  ready_at_ms_.store(up ? steady_ms() + options_.server_count_refresh_ms : -1,
                     std::memory_order_release);
  if (up) {
    SB_LOG_INFO("redis adapter: connected to {}:{}{}", pub_.options().url.host,
                pub_.options().url.port, cluster_ ? " (cluster)" : "");
  } else {
    SB_LOG_WARN("redis adapter: connection lost ({}); publishes are queued (at most {})",
                cluster_                     ? "a cluster master"
                : !pub_.last_error().empty() ? pub_.last_error()
                                             : sub_.last_error(),
                options_.max_queue);
  }
  std::vector<Listener*> ls;
  {
    std::lock_guard lock(mu_);
    for (const auto& [l, n] : listeners_)
      ls.push_back(l);
  }
  for (Listener* l : ls)
    l->on_bus_state(up);
}

void RedisBus::on_message(const redis::PubSubMessage& m) {
  Listener* l = nullptr;
  {
    std::lock_guard lock(mu_);
    using Kind = redis::PubSubMessage::Kind;
    auto& table = m.kind == Kind::kPMessage   ? patterns_
                  : m.kind == Kind::kSMessage ? shard_channels_
                                              : channels_;
    auto it = table.find(std::string(m.kind == Kind::kPMessage ? m.pattern : m.channel));
    if (it != table.end()) l = it->second;
  }
  if (l == nullptr) return;  // a late message for something unsubscribed
  metrics::received().inc();
  l->on_bus_message(m);
}

void RedisBus::publish(std::string_view channel, std::string_view payload) {
  if (topology_ == Topology::kUnknown) {
    if (!defer([this, c = std::string(channel), p = std::string(payload)] { publish(c, p); }))
      metrics::publish_dropped().inc();
    return;
  }
  metrics::published().inc();
  if (cluster_) {
    cluster_->command(channel, {"PUBLISH", channel, payload}, count_publish);
  } else {
    pub_.command({"PUBLISH", channel, payload}, count_publish);
  }
}

void RedisBus::spublish(std::string_view channel, std::string_view payload) {
  if (topology_ == Topology::kUnknown) {
    if (!defer([this, c = std::string(channel), p = std::string(payload)] { spublish(c, p); }))
      metrics::publish_dropped().inc();
    return;
  }
  metrics::published().inc();
  if (cluster_) {
    cluster_->spublish(channel, payload, count_publish);
  } else {
    pub_.command({"SPUBLISH", channel, payload}, count_publish);
  }
}

void RedisBus::numsub(std::string_view channel, UniqueFunction<void(std::optional<size_t>)> cb,
                      bool sharded) {
  if (topology_ == Topology::kUnknown) {
    if (deferred_.size() >= options_.max_queue) {
      home_.defer([cb = std::move(cb)]() mutable { cb(std::nullopt); });  // never from inside
      return;
    }
    defer([this, c = std::string(channel), cb = std::move(cb), sharded]() mutable {
      numsub(c, std::move(cb), sharded);
    });
    return;
  }
  const std::string_view kind = sharded ? "SHARDNUMSUB" : "NUMSUB";
  if (cluster_) {
    // Node's serverCount over a cluster client: the sum over the masters (a shard channel's
    // subscribers are all at its slot owner, the other masters answer 0; a plain channel's
    // subscribers are wherever each connection is). Any failed master: unknown.
    const std::string_view argv[] = {"PUBSUB", kind, channel};
    cluster_->command_on_masters(
        argv, [cb = std::move(cb)](const std::vector<redis::Reply>& replies) mutable {
          size_t sum = 0;
          for (const redis::Reply& r : replies) {
            std::optional<size_t> n = numsub_count(r);
            if (!n) {
              cb(std::nullopt);
              return;
            }
            sum += *n;
          }
          cb(sum);
        });
    return;
  }
  pub_.command({"PUBSUB", kind, channel},
               [cb = std::move(cb)](const redis::Reply& r) mutable { cb(numsub_count(r)); });
}

void RedisBus::subscribe(std::string_view channel, Listener* l) {
  {
    std::lock_guard lock(mu_);
    channels_[std::string(channel)] = l;
    ++listeners_[l];
  }
  sub_.subscribe(channel);
}

void RedisBus::psubscribe(std::string_view pattern, Listener* l) {
  {
    std::lock_guard lock(mu_);
    patterns_[std::string(pattern)] = l;
    ++listeners_[l];
  }
  sub_.psubscribe(pattern);
}

void RedisBus::ssubscribe(std::string_view channel, Listener* l) {
  {
    std::lock_guard lock(mu_);
    shard_channels_[std::string(channel)] = l;
    ++listeners_[l];
  }
  // Before the topology is known the plain subscriber keeps it; a cluster client, once
  // created, is given the whole table.
  if (cluster_) {
    cluster_->ssubscribe(channel);
  } else {
    sub_.ssubscribe(channel);
  }
}

void RedisBus::unsubscribe(std::string_view channel) {
  {
    std::lock_guard lock(mu_);
    channels_.erase(std::string(channel));
  }
  sub_.unsubscribe(channel);
}

void RedisBus::punsubscribe(std::string_view pattern) {
  {
    std::lock_guard lock(mu_);
    patterns_.erase(std::string(pattern));
  }
  sub_.punsubscribe(pattern);
}

void RedisBus::sunsubscribe(std::string_view channel) {
  {
    std::lock_guard lock(mu_);
    shard_channels_.erase(std::string(channel));
  }
  if (cluster_) {
    cluster_->sunsubscribe(channel);
  } else {
    sub_.sunsubscribe(channel);
  }
}

void RedisBus::detach(Listener* l) {
  std::vector<std::string> ch;
  std::vector<std::string> pat;
  std::vector<std::string> sch;
  {
    std::lock_guard lock(mu_);
    auto collect = [l](std::unordered_map<std::string, Listener*>& t,
                       std::vector<std::string>& out) {
      for (auto it = t.begin(); it != t.end();) {
        if (it->second == l) {
          out.push_back(it->first);
          it = t.erase(it);
        } else {
          ++it;
        }
      }
    };
    collect(channels_, ch);
    collect(patterns_, pat);
    collect(shard_channels_, sch);
    listeners_.erase(l);
  }
  // Unsubscribing is the clients' business, on loop 0: posted (the bus outlives the post).
  home_.post(
      [w = weak_from_this(), ch = std::move(ch), pat = std::move(pat), sch = std::move(sch)] {
        auto self = w.lock();
        if (!self) return;
        for (const auto& c : ch)
          self->sub_.unsubscribe(c);
        for (const auto& p : pat)
          self->sub_.punsubscribe(p);
        for (const auto& c : sch) {
          if (self->cluster_) {
            self->cluster_->sunsubscribe(c);
          } else {
            self->sub_.sunsubscribe(c);
          }
        }
      });
}

uint64_t RedisBus::now_ms() const {
  return home_.now_ms();
}

}  // namespace sb::adapter
