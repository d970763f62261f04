#include "redis/client.h"
#include "redis/push_parser.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "net/connector.h"
#include "redis/command.h"
#include "redis/reply_reader.h"

namespace sb::redis {
namespace {

// Subscription restores are sent in batches of this many names per command: bounded command size.
constexpr size_t kRestoreBatch = 512;

struct RedisMetrics {
  metrics::Gauge connected{"sb_redis_connected", "Redis clients connected and ready"};
  metrics::Counter connects{"sb_redis_connects_total", "Redis connections that became ready"};
  metrics::Counter reconnects{"sb_redis_reconnects_total",
                              "Redis connection attempts after a failure or a loss"};
  metrics::Counter connect_failures{"sb_redis_connect_failures_total",
                                    "Redis connection attempts that never became ready"};
  metrics::Counter disconnects{"sb_redis_disconnects_total", "Ready Redis connections lost"};
  metrics::Counter commands{"sb_redis_commands_total", "Redis commands written"};
  metrics::Counter dropped{"sb_redis_commands_dropped_total",
                           "Redis commands refused (queue full, client stopped)"};
  metrics::Counter reply_errors{"sb_redis_reply_errors_total", "Redis error replies"};
  metrics::Counter protocol_errors{"sb_redis_protocol_errors_total",
                                   "Redis connections dropped for unparsable or unexpected input"};
  metrics::Counter messages{"sb_redis_messages_total", "Redis pub/sub messages received"};
};

RedisMetrics& redis_metrics() {
  static RedisMetrics m;
  return m;
}

uint64_t next_random(uint64_t& s) {  // xorshift64: jitter only, no quality needed
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

std::string_view confirm_name(uint8_t c) {
  static constexpr std::string_view kNames[] = {
      "", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"};
  return c < std::size(kNames) ? kNames[c] : "";
}

}  // namespace

// Owns the parser for one connection. The connection owns the handler; the client points at it
// and detaches (client_ = nullptr) when it gives the connection up, so a late on_close or the rest
// of a read buffer never reach a client that moved on (or was destroyed).
class Client::Handler final : public net::ConnectionHandler {
 public:
  Handler(Client* client, ReplyReaderLimits limits) : client_(client), reader_(limits) {}

  // Always consumes everything it is given (`all`): what the reader holds partially it keeps
  // itself. Returning less would make the connection offer those bytes again.
  size_t on_data(net::Connection& /*c*/, std::span<uint8_t> data) override {
    const size_t all = data.size();
    if (client_ == nullptr) return all;
    // A subscriber's message pushes are delivered straight from the receive buffer while the
    // reader holds nothing partial (so the order of replies is kept); the rest goes to it.
    if (client_->subscriber_ && reader_.idle()) {
      size_t off = 0;
      PubSubMessage m{};
      while (client_ != nullptr && off < data.size()) {
        const size_t n = parse_push(data.subspan(off), m);
        if (n == 0) break;
        off += n;
        client_->deliver(m);
      }
      if (client_ == nullptr || off == data.size()) return all;
      data = data.subspan(off);  // the rest starts with a partial push or another reply
    }
    if (auto fed = reader_.feed(data); !fed) {
      client_->on_protocol_error(fed.error().reason);
      return all;
    }
    // A callback may stop the client (which detaches us): re-check before every reply.
    while (client_ != nullptr) {
      auto next = reader_.next();
      if (!next) {
        client_->on_protocol_error(reader_.error_text());
        break;
      }
      if (!next->has_value()) break;
      client_->on_reply(std::move(**next));
    }
    return all;
  }

  void on_drain(net::Connection& /*c*/) override {
    if (client_ != nullptr) client_->pump();
  }

  // The loop is shutting down: it can only exit once this connection is gone, and nothing may
  // reconnect behind its back.
  void on_shutdown(net::Connection& c) override {
    if (client_ != nullptr) {
      client_->stop();
    } else {
      c.close(net::CloseReason::kShutdown);
    }
  }

  void on_close(net::Connection& /*c*/, net::CloseReason reason) override {
    if (client_ == nullptr) return;
    client_->lose_connection(net::close_reason_name(reason), false, false);
  }

  Client* client_;
  ReplyReader reader_;
};

Client::Client(net::Loop& loop, ClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      rng_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           reinterpret_cast<uintptr_t>(this) ^ 0x9e3779b97f4a7c15ULL) {
  redis_metrics();  // register before any loop thread counts
  if (options_.reconnect_min_ms == 0) options_.reconnect_min_ms = 1;
  options_.reconnect_max_ms = std::max(options_.reconnect_max_ms, options_.reconnect_min_ms);
}

Client::~Client() {
  if (handler_ != nullptr) handler_->client_ = nullptr;
  if (conn_ != nullptr) conn_->abort(net::CloseReason::kLocal);
  if (state_ == State::kReady) redis_metrics().connected.add(-1);
}

void Client::start() {
  if (state_ != State::kIdle || stopped_) return;
  connect_now();
}

void Client::stop() {
  if (stopped_) return;
  stopped_ = true;  // checked by lose_connection: no reconnect
  reconnect_timer_.cancel();
  connect_timer_.cancel();
  if (conn_ != nullptr) lose_connection("stopped", true, true);
  state_ = State::kStopped;
  // Queued commands were never sent: they are answered here, in order.
  std::deque<Outgoing> queued = std::move(queue_);
  queue_.clear();
  queued_regular_ = 0;
  queued_bytes_ = 0;
  const Reply stopped = Reply::error("ERR client stopped");
  for (Outgoing& o : queued) {
    if (!o.cb) continue;
    ++stats_.commands_dropped;
    redis_metrics().dropped.inc();
    o.cb(stopped);
  }
}

void Client::forget_ssubscription(std::string_view channel) {
  if (auto it = shard_channels_.find(channel); it != shard_channels_.end()) {
    shard_channels_.erase(it);
  }
}

void Client::on_message(std::function<void(const PubSubMessage&)> handler) {
  on_message_ = std::move(handler);
}

void Client::on_state(std::function<void(bool)> handler) {
  on_state_ = std::move(handler);
}

// ---- connecting ----

void Client::connect_now() {
  if (stopped_) return;
  int err = 0;
  auto started = net::start_connect(options_.url.host, options_.url.port, &err);
  if (!started) {
    last_error_ = std::string(started.error().reason) + ": " + std::strerror(err);
    lose_connection(last_error_, false, false);
    return;
  }
  ++gen_;
  auto handler = std::make_unique<Handler>(
      this, ReplyReaderLimits{options_.max_reply_bytes, ReplyReaderLimits{}.max_elements});
  handler_ = handler.get();
  conn_ = loop_.adopt(started->fd, started->peer, std::move(handler));
  state_ = State::kHandshake;
  subscriber_ = false;
  loop_.timers().arm(connect_timer_, options_.connect_timeout_ms, [this] {
    last_error_ =
        "timed out connecting to " + options_.url.host + ":" + std::to_string(options_.url.port);
    lose_connection(last_error_, true, false);
  });
  send_login();
}

// Login commands are pipelined on the fresh socket (they leave once TCP is established); the
// client is not ready before the last answer, and queued commands wait until then — a command
// sent before AUTH would only earn a NOAUTH error.
void Client::send_login() {
  const uint64_t gen = gen_;
  auto step = [this, gen](std::string_view what, bool fatal) {
    return [this, gen, what, fatal](const Reply& r) {
      if (gen != gen_) return;  // that connection is gone
      if (r.is_error()) {
        if (fatal) {
          last_error_ = std::string(what) + ": " + r.str;
          // A configuration error (wrong password, bad db): loud once, then quiet while retrying.
          if (attempt_ == 0) {
            SB_LOG_ERROR("redis {}:{}: {}", options_.url.host, options_.url.port, last_error_);
          }
          lose_connection(last_error_, true, false);
          return;
        }
        SB_LOG_WARN("redis {}:{}: {} failed: {}", options_.url.host, options_.url.port, what,
                    r.str);
      }
      if (--login_pending_ == 0) begin_restore();
    };
  };
  login_pending_ = 0;
  const Url& u = options_.url;
  if (!u.password.empty()) {
    ++login_pending_;
    if (u.user.empty()) {
      write_now(std::initializer_list<std::string_view>{"AUTH", u.password}, step("AUTH", true),
                Confirm::kNone);
    } else {
      write_now(std::initializer_list<std::string_view>{"AUTH", u.user, u.password},
                step("AUTH", true), Confirm::kNone);
    }
  }
  if (u.db != 0) {
    ++login_pending_;
    std::string db = std::to_string(u.db);
    write_now(std::initializer_list<std::string_view>{"SELECT", db}, step("SELECT", true),
              Confirm::kNone);
  }
  if (!options_.name.empty()) {
    ++login_pending_;
    write_now(std::initializer_list<std::string_view>{"CLIENT", "SETNAME", options_.name},
              step("CLIENT SETNAME", false), Confirm::kNone);
  }
  if (login_pending_ == 0) {
    // Nothing to say: a PING proves the server answers before we report ready.
    ++login_pending_;
    write_now(std::initializer_list<std::string_view>{"PING"}, step("PING", true), Confirm::kNone);
  }
}

// Subscriptions are re-sent before any queued command and before the client reports ready, so
// an adapter that resyncs on on_state(true) does not miss messages published after that.
void Client::begin_restore() {
  state_ = State::kRestoring;
  const uint64_t gen = gen_;
  std::vector<Outgoing> restore;
  auto add = [&](std::string_view verb, Confirm confirm,
                 const std::set<std::string, std::less<>>& names, size_t batch) {
    std::vector<std::string_view> argv;
    argv.reserve(batch + 1);
    auto it = names.begin();
    while (it != names.end()) {
      argv.clear();
      argv.push_back(verb);
      for (size_t n = 0; n < batch && it != names.end(); ++n, ++it)
        argv.emplace_back(*it);
      Outgoing o;
      o.bytes = format_command(argv);
      o.confirm = confirm;
      o.confirmations = static_cast<uint32_t>(argv.size() - 1);
      o.login = true;
      o.cb = [this, gen, verb](const Reply& r) {
        if (gen != gen_) return;
        if (r.is_error()) {
          SB_LOG_WARN("redis {}:{}: restoring {} failed: {}", options_.url.host, options_.url.port,
                      verb, r.str);
        }
        if (--restore_pending_ == 0) become_ready();
      };
      restore.push_back(std::move(o));
    }
  };
  add("SUBSCRIBE", Confirm::kSubscribe, channels_, kRestoreBatch);
  add("PSUBSCRIBE", Confirm::kPSubscribe, patterns_, kRestoreBatch);
  // One per command: on a cluster node, channels of different slots may not share an SSUBSCRIBE.
  add("SSUBSCRIBE", Confirm::kSSubscribe, shard_channels_, 1);
  restore_pending_ = restore.size();
  if (restore.empty()) {
    become_ready();
    return;
  }
  queue_.insert(queue_.begin(), std::make_move_iterator(restore.begin()),
                std::make_move_iterator(restore.end()));
  pump();
}

void Client::become_ready() {
  state_ = State::kReady;
  connect_timer_.cancel();
  attempt_ = 0;
  last_error_.clear();
  ++stats_.connects;
  redis_metrics().connects.inc();
  redis_metrics().connected.add(1);
  SB_LOG_INFO("redis {}:{} connected{}{}", options_.url.host, options_.url.port,
              options_.name.empty() ? "" : " as ", options_.name);
  pump();
  if (on_state_ && state_ == State::kReady) on_state_(true);
}

void Client::schedule_reconnect() {
  // Capped exponential back-off with jitter in [d/2, d]: a fleet of nodes that lost the same
  // server does not come back in lockstep.
  uint64_t delay = options_.reconnect_min_ms;
  for (uint32_t i = 0; i < attempt_ && delay < options_.reconnect_max_ms; ++i)
    delay *= 2;
  delay = std::min<uint64_t>(delay, options_.reconnect_max_ms);
  delay = delay / 2 + next_random(rng_) % (delay / 2 + 1);
  ++attempt_;
  state_ = State::kWaiting;
  loop_.timers().arm(reconnect_timer_, delay, [this] {
    redis_metrics().reconnects.inc();
    connect_now();
  });
}

void Client::lose_connection(std::string_view why, bool close_socket, bool graceful) {
  const bool was_ready = state_ == State::kReady;
  const bool stopping = stopped_;
  ++gen_;
  if (!was_ready && !stopping && why.data() != last_error_.data()) {
    last_error_ = "connection closed (" + std::string(why) + ")";
  }
  connect_timer_.cancel();
  if (handler_ != nullptr) handler_->client_ = nullptr;
  handler_ = nullptr;
  net::Connection* c = std::exchange(conn_, nullptr);
  if (c != nullptr && close_socket) {
    if (graceful) {
      c->close(net::CloseReason::kLocal);
    } else {
      c->abort(net::CloseReason::kLocal);
    }
  }
  subscriber_ = false;
  login_pending_ = 0;
  restore_pending_ = 0;
  // Half-written and subscription commands belong to the dead connection (the subscription set
  // is restored from scratch); regular queued commands wait for the next one.
  if (!queue_.empty() && queue_.front().written > 0) pop_queued();
  std::erase_if(queue_, [](const Outgoing& o) { return o.confirm != Confirm::kNone || o.login; });

  if (was_ready) {
    ++stats_.disconnects;
    redis_metrics().disconnects.inc();
    redis_metrics().connected.add(-1);
  }
  if (stopping) {
    SB_LOG_INFO("redis {}:{} closed ({}); {} commands in flight fail", options_.url.host,
                options_.url.port, why, inflight_.size());
  } else if (was_ready) {
    SB_LOG_WARN("redis {}:{} connection lost ({}); {} commands in flight fail", options_.url.host,
                options_.url.port, why, inflight_.size());
  } else {
    ++stats_.connect_failures;
    redis_metrics().connect_failures.inc();
    if (attempt_ == 0) {
      SB_LOG_WARN("redis {}:{} connect failed ({})", options_.url.host, options_.url.port, why);
    } else {
      SB_LOG_DEBUG("redis {}:{} connect attempt {} failed ({})", options_.url.host,
                   options_.url.port, attempt_ + 1, why);
    }
  }
  if (stopping) {
    state_ = State::kStopped;
  } else {
    schedule_reconnect();
  }

  // Callbacks last: they may call back into the client (command(), stop()), which now sees a
  // consistent disconnected state.
  std::deque<InFlight> failed = std::move(inflight_);
  inflight_.clear();
  const Reply lost = Reply::error("ERR connection lost");
  for (InFlight& f : failed) {
    if (f.cb) f.cb(lost);
  }
  if (was_ready && on_state_) on_state_(false);
}

void Client::on_protocol_error(std::string_view what) {
  ++stats_.protocol_errors;
  redis_metrics().protocol_errors.inc();
  SB_LOG_WARN("redis {}:{}: protocol error ({}); reconnecting", options_.url.host,
              options_.url.port, what);
  last_error_ = "protocol error: " + std::string(what);
  lose_connection(last_error_, true, false);
}

// ---- replies ----

bool Client::dispatch_push(const Reply& reply) {
  const auto& e = reply.elements;
  if (e.size() < 3 || e[0].type != Reply::Type::kString) return false;
  const std::string_view kind = e[0].str;
  PubSubMessage m{PubSubMessage::Kind::kMessage, {}, {}, {}};
  if (kind == "message" || kind == "smessage") {
    m.kind = kind[0] == 's' ? PubSubMessage::Kind::kSMessage : PubSubMessage::Kind::kMessage;
    m.channel = e[1].str;
    m.payload = e[2].str;
  } else if (kind == "pmessage" && e.size() == 4) {
    m.kind = PubSubMessage::Kind::kPMessage;
    m.pattern = e[1].str;
    m.channel = e[2].str;
    m.payload = e[3].str;
  } else {
    // A confirmation: it answers the command at the head when the kinds match.
    if (!inflight_.empty()) {
      InFlight& f = inflight_.front();
      if (f.confirm != Confirm::kNone && confirm_name(static_cast<uint8_t>(f.confirm)) == kind) {
        if (f.confirmations <= 1) {
          complete_front(reply);
        } else {
          --f.confirmations;
        }
        return true;
      }
    }
    if (kind == "sunsubscribe") {
      // Unasked: a cluster node dropping a shard channel whose slot moved away (Redis 7). The
      // server no longer has it, so neither do we: a restore must not send it back there. The
      // cluster client re-subscribes at the new owner after its slot map refresh.
      SB_LOG_INFO("redis {}:{}: server ended shard subscription {}", options_.url.host,
                  options_.url.port, e[1].str);
      if (auto it = shard_channels_.find(e[1].str); it != shard_channels_.end()) {
        shard_channels_.erase(it);
      }
      return true;
    }
    if (kind.find("unsubscribe") != std::string_view::npos) {
      SB_LOG_WARN("redis {}:{}: unexpected {} {}", options_.url.host, options_.url.port, kind,
                  e[1].str);
      return true;
    }
    return false;
  }
  deliver(m);
  return true;
}

void Client::deliver(const PubSubMessage& m) {
  ++stats_.messages_received;
  redis_metrics().messages.inc();
  if (on_message_) on_message_(m);
}

void Client::complete_front(const Reply& reply) {
  ReplyCallback cb = std::move(inflight_.front().cb);
  inflight_.pop_front();
  if (cb) cb(reply);
}

void Client::on_reply(Reply&& reply) {
  if (subscriber_ && reply.type == Reply::Type::kArray && dispatch_push(reply)) return;
  if (inflight_.empty()) {
    if (subscriber_ && reply.is_error()) {
      // A subscriber's SUNSUBSCRIBE raced with the server dropping that shard channel (slot
      // moved): the unasked push took its place, and this is the command's own answer.
      ++stats_.reply_errors;
      redis_metrics().reply_errors.inc();
      SB_LOG_WARN("redis {}:{}: unmatched error reply on a subscriber: {}", options_.url.host,
                  options_.url.port, reply.str);
      return;
    }
    on_protocol_error("a reply nobody asked for");
    return;
  }
  if (reply.is_error()) {
    ++stats_.reply_errors;
    redis_metrics().reply_errors.inc();
  } else if (inflight_.front().confirm != Confirm::kNone) {
    // A (un)subscribe is answered by pushes or one error, never by a plain reply: we are out of
    // step with the server (a regular command on a subscriber client, in RESP2 terms).
    on_protocol_error("plain reply where a subscription confirmation was expected");
    return;
  }
  complete_front(reply);
}

// ---- sending ----

bool Client::may_write(bool login) const {
  if (conn_ == nullptr || !conn_->open()) return false;
  if (state_ == State::kReady) return true;
  return login && (state_ == State::kHandshake || state_ == State::kRestoring);
}

// Encodes straight into the connection's cork buffer (one reserve/commit, no intermediate copy).
void Client::write_now(std::span<const std::string_view> argv, ReplyCallback cb, Confirm confirm) {
  const size_t size = command_size(argv);
  auto space = conn_->reserve(size);
  if (space.size() >= size) {
    conn_->commit(format_command(argv, space.data()));
  }
  // Not written (the connection is closing): the callback is failed with the connection.
  inflight_.push_back(
      InFlight{std::move(cb), confirm,
               static_cast<uint32_t>(confirm == Confirm::kNone ? 0 : argv.size() - 1)});
  if (confirm != Confirm::kNone) subscriber_ = true;
  redis_metrics().commands.inc();
}

void Client::submit(std::span<const std::string_view> argv, ReplyCallback cb, Confirm confirm,
                    bool login) {
  const size_t size = command_size(argv);
  const auto& lo = loop_.options();
  // Fast path: nothing queued ahead, the connection is not backed up, and the command fits under
  // the connection's outbound limit (over it the connection would be closed as a slow reader).
  if (queue_.empty() && may_write(login) && conn_->queued_bytes() <= lo.high_watermark &&
      conn_->queued_bytes() + size <= lo.max_outbound_bytes) {
    write_now(argv, std::move(cb), confirm);
    return;
  }
  const bool counted = confirm == Confirm::kNone && !login;
  if (counted && (queued_regular_ >= options_.max_pending_commands ||
                  queued_bytes_ + size > options_.max_pending_bytes)) {
    refuse(std::move(cb), "ERR queue full");
    return;
  }
  Outgoing o;
  o.bytes = format_command(argv);
  o.cb = std::move(cb);
  o.confirm = confirm;
  o.confirmations = confirm == Confirm::kNone ? 0 : static_cast<uint32_t>(argv.size() - 1);
  o.login = login;
  if (counted) {
    ++queued_regular_;
    queued_bytes_ += o.bytes.size();
  }
  queue_.push_back(std::move(o));
  pump();
}

void Client::pop_queued() {
  Outgoing& o = queue_.front();
  if (o.confirm == Confirm::kNone && !o.login) {
    --queued_regular_;
    queued_bytes_ -= o.bytes.size();
  }
  queue_.pop_front();
}

// Moves queued commands to the connection while it is below its high watermark. A command larger
// than the room left is written in pieces, the rest after on_drain: the connection's outbound
// limit is never crossed, whatever the command size.
void Client::pump() {
  const auto& lo = loop_.options();
  while (!queue_.empty()) {
    Outgoing& o = queue_.front();
    if (!may_write(o.login) || conn_->queued_bytes() > lo.high_watermark ||
        conn_->queued_bytes() >= lo.max_outbound_bytes) {
      return;
    }
    if (o.written == 0) {
      inflight_.push_back(InFlight{std::move(o.cb), o.confirm, o.confirmations});
      if (o.confirm != Confirm::kNone) subscriber_ = true;
      redis_metrics().commands.inc();
    }
    const size_t room = lo.max_outbound_bytes - conn_->queued_bytes();
    const size_t n = std::min(o.bytes.size() - o.written, room);
    conn_->write(std::string_view(o.bytes).substr(o.written, n));
    o.written += n;
    if (o.written < o.bytes.size()) return;  // above the high watermark now: on_drain resumes
    pop_queued();
  }
}

void Client::refuse(ReplyCallback cb, std::string_view why) {
  ++stats_.commands_dropped;
  redis_metrics().dropped.inc();
  if (!cb) return;
  loop_.defer([cb = std::move(cb), r = Reply::error(why)]() mutable { cb(r); });
}

void Client::command(std::span<const std::string_view> argv, ReplyCallback cb) {
  if (argv.empty()) {
    refuse(std::move(cb), "ERR empty command");
    return;
  }
  if (stopped_) {
    refuse(std::move(cb), "ERR client stopped");
    return;
  }
  submit(argv, std::move(cb), Confirm::kNone, false);
}

void Client::command(std::initializer_list<std::string_view> argv, ReplyCallback cb) {
  command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(cb));
}

// ---- subscriptions ----

// The set is the truth; a command goes out only when a connection is ready to take it (while
// connecting, the restore step sends the whole set).
void Client::sub_command(std::string_view verb, Confirm confirm,
                         std::set<std::string, std::less<>>& set, std::string_view name, bool add) {
  if (add) {
    if (!set.emplace(name).second) return;
  } else {
    auto it = set.find(name);
    if (it == set.end()) return;
    set.erase(it);
  }
  if (state_ != State::kReady && state_ != State::kRestoring) return;
  const std::string_view argv[] = {verb, name};
  submit(argv, {}, confirm, false);
}

void Client::subscribe(std::string_view channel) {
  sub_command("SUBSCRIBE", Confirm::kSubscribe, channels_, channel, true);
}
void Client::psubscribe(std::string_view pattern) {
  sub_command("PSUBSCRIBE", Confirm::kPSubscribe, patterns_, pattern, true);
}
void Client::ssubscribe(std::string_view channel) {
  sub_command("SSUBSCRIBE", Confirm::kSSubscribe, shard_channels_, channel, true);
}
void Client::unsubscribe(std::string_view channel) {
  sub_command("UNSUBSCRIBE", Confirm::kUnsubscribe, channels_, channel, false);
}
void Client::punsubscribe(std::string_view pattern) {
  sub_command("PUNSUBSCRIBE", Confirm::kPUnsubscribe, patterns_, pattern, false);
}
void Client::sunsubscribe(std::string_view channel) {
  sub_command("SUNSUBSCRIBE", Confirm::kSUnsubscribe, shard_channels_, channel, false);
}

}  // namespace sb::redis
