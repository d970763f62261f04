#pragma once
// An asynchronous Redis connection living on one of our event loops (DESIGN §5).
//
// The socket is an ordinary net::Connection: commands are encoded straight into its cork buffer
// and leave with everything else written in the same loop turn, so a burst of PUBLISHes costs one
// sendmsg. Replies are parsed by hiredis's reader (sans-I/O) and matched to callbacks in FIFO
// order. The client reconnects by itself (capped exponential back-off with jitter), logging in,
// selecting the database and restoring subscriptions before it reports itself connected.
//
// Threading: everything — construction aside — runs on the owning loop's thread; other threads
// post() to that loop. Callbacks run on the loop thread. A callback may call any method of the
// client (stop() included) but must not destroy it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/unique_function.h"
#include "net/loop.h"
#include "redis/reply.h"
#include "redis/url.h"

namespace sb::redis {

using ReplyCallback = UniqueFunction<void(const Reply&)>;

struct ClientOptions {
  Url url;
  std::string name;                    // CLIENT SETNAME when not empty (diagnostics)
  uint32_t connect_timeout_ms = 2000;  // TCP connect + login + subscription restore
  uint32_t reconnect_min_ms = 100;     // capped exponential back-off (with jitter) between attempts
  uint32_t reconnect_max_ms = 5000;
  size_t max_pending_commands = 10000;  // commands queued while disconnected; beyond: dropped
                                        // (callback gets an error reply), counted
  size_t max_pending_bytes = 64 << 20;  // the same queue, in encoded bytes
  size_t max_reply_bytes = 64 << 20;    // one reply (a huge bulk string) beyond: protocol error
};

/// A pub/sub push. The views point into the received reply: valid during the handler call only.
struct PubSubMessage {
  enum class Kind { kMessage, kPMessage, kSMessage };
  Kind kind;
  std::string_view pattern;  // kPMessage only
  std::string_view channel;
  std::string_view payload;  // binary-safe
};

class Client {
 public:
  /// Lifetime: create and destroy on the loop thread (or while the loop is not running), and
  /// always before the Loop itself.
  Client(net::Loop& loop, ClientOptions options);
  /// Closes the connection. Pending callbacks are dropped without being called (they may point
  /// into an owner being destroyed); call stop() first to have them answered.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Connect (and keep reconnecting until stop()).
  void start();
  /// Close; pending callbacks get an error reply ("ERR connection lost" for commands already
  /// sent, "ERR client stopped" for queued ones); no reconnect. Final.
  void stop();
  /// Connected, authenticated, db selected, subscriptions restored.
  bool connected() const { return state_ == State::kReady; }
  /// stop() was called (by the owner, or by the loop's shutdown).
  bool stopped() const { return stopped_; }

  /// Regular command (binary-safe argv). Pipelined: written immediately (corked) when connected,
  /// else queued (bounded). `cb` (optional) receives the reply, or an error Reply ("ERR connection
  /// lost" / "ERR queue full" / "ERR client stopped") — called exactly once, never from inside
  /// command() itself (a refusal is delivered at the end of the loop turn).
  void command(std::span<const std::string_view> argv, ReplyCallback cb = {});
  void command(std::initializer_list<std::string_view> argv, ReplyCallback cb = {});

  /// Subscriber mode (a client used for these must not be used for regular commands — RESP2).
  /// Remembered and restored after every reconnect.
  void subscribe(std::string_view channel);
  void psubscribe(std::string_view pattern);
  void ssubscribe(std::string_view channel);  // sharded pub/sub (Redis >= 7)
  void unsubscribe(std::string_view channel);
  void punsubscribe(std::string_view pattern);
  void sunsubscribe(std::string_view channel);
  /// Forgets a shard channel the server dropped by itself (its cluster slot moved) without
  /// sending SUNSUBSCRIBE, which the old owner would answer with MOVED.
  void forget_ssubscription(std::string_view channel);
  void on_message(std::function<void(const PubSubMessage&)> handler);
  /// Called on every transition (true: ready, false: lost). For /readyz and for adapters to resync.
  void on_state(std::function<void(bool connected)> handler);

  struct Stats {
    uint64_t connects = 0;          // became ready
    uint64_t disconnects = 0;       // lost after being ready
    uint64_t commands_dropped = 0;  // refused: queue full, or client stopped
    uint64_t messages_received = 0;
    uint64_t reply_errors = 0;      // error replies (-ERR...) received
    uint64_t connect_failures = 0;  // attempts that never became ready
    uint64_t protocol_errors = 0;   // unparsable input or a reply nobody waited for
  };
  const Stats& stats() const { return stats_; }
  /// Why the last attempt failed (e.g. "AUTH: WRONGPASS ..."); empty once connected.
  const std::string& last_error() const { return last_error_; }
  const ClientOptions& options() const { return options_; }
  size_t queued_commands() const { return queued_regular_; }
  size_t in_flight() const { return inflight_.size(); }

 private:
  class Handler;
  enum class State : uint8_t { kIdle, kWaiting, kHandshake, kRestoring, kReady, kStopped };
  /// What a command's reply looks like: one reply, or one push per channel argument
  /// (subscribe/unsubscribe confirmations arrive as pushes, or a single error).
  enum class Confirm : uint8_t {
    kNone,
    kSubscribe,
    kPSubscribe,
    kSSubscribe,
    kUnsubscribe,
    kPUnsubscribe,
    kSUnsubscribe
  };
  struct InFlight {
    ReplyCallback cb;
    Confirm confirm = Confirm::kNone;
    uint32_t confirmations = 0;  // pushes still expected (Confirm != kNone)
  };
  struct Outgoing {
    std::string bytes;
    size_t written = 0;  // > 0: partly written, its InFlight entry exists
    ReplyCallback cb;
    Confirm confirm = Confirm::kNone;
    uint32_t confirmations = 0;
    bool login = false;  // handshake/restore: may be written before the client is ready
  };

  void connect_now();
  void schedule_reconnect();
  void send_login();
  void begin_restore();
  void become_ready();
  /// The connection is gone (or being dropped): fail what is in flight, maybe reconnect.
  void lose_connection(std::string_view why, bool close_socket, bool graceful);
  void on_reply(Reply&& reply);
  void on_protocol_error(std::string_view what);
  void complete_front(const Reply& reply);
  bool dispatch_push(const Reply& reply);
  /// A message push, from either parser: counted, then handed to on_message.
  void deliver(const PubSubMessage& m);

  void submit(std::span<const std::string_view> argv, ReplyCallback cb, Confirm confirm,
              bool login);
  void write_now(std::span<const std::string_view> argv, ReplyCallback cb, Confirm confirm);
  void pump();
  bool may_write(bool login) const;
  void pop_queued();
  void refuse(ReplyCallback cb, std::string_view why);
  void sub_command(std::string_view verb, Confirm confirm, std::set<std::string, std::less<>>& set,
                   std::string_view name, bool add);

  net::Loop& loop_;
  ClientOptions options_;
  State state_ = State::kIdle;
  bool stopped_ = false;
  net::Connection* conn_ = nullptr;
  Handler* handler_ = nullptr;
  uint64_t gen_ = 0;  // bumped per connection: late internal callbacks of an old one are ignored
  std::deque<InFlight> inflight_;
  std::deque<Outgoing> queue_;
  size_t queued_regular_ = 0;  // counted against max_pending_commands
  size_t queued_bytes_ = 0;    // counted against max_pending_bytes
  size_t login_pending_ = 0;
  size_t restore_pending_ = 0;
  bool subscriber_ = false;  // a subscribe-family command went out on this connection
  std::set<std::string, std::less<>> channels_;
  std::set<std::string, std::less<>> patterns_;
  std::set<std::string, std::less<>> shard_channels_;
  net::Timer connect_timer_;
  net::Timer reconnect_timer_;
  uint32_t attempt_ = 0;  // consecutive failures: drives the back-off
  uint64_t rng_;
  std::string last_error_;
  Stats stats_;
  std::function<void(const PubSubMessage&)> on_message_;
  std::function<void(bool)> on_state_;
};

}  // namespace sb::redis
