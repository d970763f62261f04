#pragma once
// The Engine.IO v4 server: one per node and path, shared by every loop.
//
// attach() mounts the path prefix on the router. Each request is verified in Node's order
// (transport, sid, method, EIO) and answered with Node's exact error bodies. A session lives on
// the loop that accepted its handshake; its sid names that loop (and this node). A later request
// that the kernel delivered to another loop is handed over: the accepting loop parks the HTTP
// answer in its table and posts the request (sid, method, body copy) to the owner; the owner
// runs it against the session and posts the answer back, or keeps the GET waiting and answers
// it later the same way. Either side may have gone away meanwhile: the parked answer is inert
// once its connection closed (the owner then learns the GET was abandoned), and the owner
// answers "Session ID unknown" for a session that is gone.
//
// A WebSocket upgrade that arrives on another loop than its session's stays on the loop that
// accepted it, and its frames are relayed through the loops' mailboxes (WsBridge): one copy and
// one post per message in each direction, for the life of the session. See docs/engineio.md.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/heartbeat.h"
#include "engineio/id_table.h"
#include "engineio/options.h"
#include "engineio/socket.h"
#include "engineio/ws_transport.h"
#include "http/cors.h"
#include "http/router.h"
#include "http/server.h"
#include "net/loop_group.h"
#include "ws/handshake.h"
#include "ws/session.h"

namespace sb::engineio {

class Server {
 public:
  /// `handler` must outlive the server; the server must outlive the loops' threads.
  Server(Options options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Mounts options().path (GET, POST and the other methods Node answers with an error) on
  /// `router` with a body limit of max_http_buffer_size. Call once, before serving.
  void attach(http::Router& router, net::LoopGroup& loops, const http::Cors& cors);
  /// The route handler attach() registers (for embedding under another router).
  void handle(http::Exchange& ex);

  const Options& options() const { return options_; }
  Handler& handler() const { return handler_; }

  /// The session `sid` if it lives on `loop` (call on that loop's thread), else nullptr.
  Socket* find(net::Loop& loop, std::string_view sid);
  /// Sessions on `loop` (its thread only).
  size_t session_count(net::Loop& loop) const;
  /// Calls f(Socket&) for every open session on `loop` (its thread only). `f` may close them.
  template <typename F>
  void for_each_socket(net::Loop& loop, F&& f);

  /// Thread-safe: ends every session on every loop with `reason` (posted to each loop). Call
  /// before LoopGroup::shutdown so handlers see "server shutting down".
  void close_all(std::string_view reason = "server shutting down");

 private:
  friend class Socket;
  friend class WsBridge;
  struct PerLoop;
  /// A polling request handed to the session's owner loop.
  struct PollCall {
    http::Method method = http::Method::kGet;
    bool eio4 = true;
    bool polling = true;  // the request's transport is "polling"
    bool octet_stream = false;
    PollWaiter waiter;
  };

  PerLoop& local(net::Loop& loop) const;
  net::Loop& loop_at(int index) const;

  void handle_polling(http::Exchange& ex, const std::string& sid, int owner, bool eio4,
                      bool polling);
  void handle_handshake_polling(http::Exchange& ex);
  /// The route's head hook: marks a POST whose body is streaming, refuses an overlapping one.
  http::HeadVerdict on_post_head(const http::Request& req, net::Connection& c);
  void handle_upgrade(http::Exchange& ex, const std::string* sid, bool eio4);
  /// Runs a polling request against a session of this loop: the answer, or nullopt for a GET
  /// parked in the session.
  std::optional<PollReply> serve_polling(PerLoop& pl, std::string_view sid, const PollCall& call,
                                         std::string_view body);
  /// Answers a parked GET, on its loop (posting there if it is another one).
  void deliver(int from_loop, const PollWaiter& w, PollReply reply);
  void complete_parked(PerLoop& pl, uint64_t id, const PollReply& reply);
  void get_abandoned(int owner, const std::string& sid, int loop, uint64_t id);
  Socket& create_socket(PerLoop& pl, std::string_view sid, Transport t, http::Exchange& ex);
  std::string make_sid(const net::Loop& loop) const;
  std::string cookie_header(std::string_view sid) const;

  // For Socket.
  void schedule_flush(Socket& s);
  /// The socket ended: unlink it, count it, tell the handler, free it at the end of the turn.
  void retire(Socket& s, std::string_view reason);
  void run_end_of_turn(PerLoop& pl);

  Options options_;
  Handler& handler_;
  net::LoopGroup* loops_ = nullptr;
  const http::Cors* cors_ = nullptr;
  std::unique_ptr<PerLoop[]> per_loop_;
  int loop_count_ = 0;
  ws::SessionOptions ws_options_;
  ws::HandshakeOptions handshake_options_;
  std::unique_ptr<WsBridge> bridge_;
  ws::SessionRoute ws_route_;  // every Engine.IO WebSocket's endpoint (bridge_) and options
};

// Loop-thread state of the server on one loop.
struct Server::PerLoop {
  struct SidOf {
    std::string_view operator()(const Socket& s) const { return s.sid(); }
  };
  PerLoop() = default;
  PerLoop(const PerLoop&) = delete;
  PerLoop& operator=(const PerLoop&) = delete;
  ~PerLoop();  // frees the sessions still open

  net::Loop* loop = nullptr;
  // The sessions' heartbeat waits (set by attach()). First: destroyed after every session.
  std::unique_ptr<HeartbeatQueue> ping;     // ping interval
  std::unique_ptr<HeartbeatQueue> pong;     // pong deadline
  std::unique_ptr<HeartbeatQueue> closing;  // close timeout of a polling session closing
  // Owning (a session is moved to `dead` when it ends). Keyed by the socket's own sid, which
  // never changes; a Socket never moves.
  IdTable<Socket, SidOf> sessions;
  std::unordered_map<uint64_t, http::PendingResponse> parked;  // GETs (and remote POSTs)
  uint64_t next_park_id = 1;
  /// sid → connection id of the POST whose body is being read for that session (Node's
  /// `dataReq`): only POSTs that arrive on the session's own loop, and only until their handler
  /// runs or their connection closes. A POST handed over from another loop is checked against
  /// it (see on_post_head).
  std::unordered_map<std::string, uint64_t> posts_in_flight;
  /// The relayed WebSockets accepted by this loop (their session lives on another loop), by
  /// key: the owner's frames are looked up here when they arrive. A WebSocket whose session is
  /// on this loop needs no entry (it is the socket's link); it is owned by its connection.
  std::unordered_map<uint64_t, RelayedWs> relayed;
  std::vector<Socket*> flush_list;            // sockets with output for a parked GET
  std::vector<std::unique_ptr<Socket>> dead;  // retired this turn, freed at its end
  bool turn_task_scheduled = false;
};

template <typename F>
void Server::for_each_socket(net::Loop& loop, F&& f) {
  std::vector<Socket*> all;
  local(loop).sessions.for_each([&all](Socket& s) { all.push_back(&s); });
  for (Socket* s : all)
    if (s->is_open()) f(*s);
}

}  // namespace sb::engineio
