#pragma once
// The Socket.IO v5 server (Node's Server): sits on an Engine.IO server as its Handler, owns the
// namespaces, and runs on every loop. Per connection it creates a Client (client.h); per
// namespace joined, a Socket (socket.h). Namespaces are shared by all loops but what they hold
// about sockets is per loop; a broadcast is serialized once and fanned out to the loops by the
// namespace's adapter (in_memory_adapter.h).
//
//   socketio::Server io(loops, {});
//   io.of("/").on_connection([](Socket& s) { s.on("join", [&s](const Args& a) { s.join(a.str(0));
//   }); }); engineio::Server eio(options, io);  // io is the Handler

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/socket.h"
#include "socketio/namespace.h"
#include "socketio/packet.h"
#include "socketio/runtime.h"

namespace sb::socketio {

class Client;

using AdapterFactory = std::function<std::unique_ptr<Adapter>(Namespace&)>;

struct ServerOptions {
  /// A client that joins no namespace within this time is closed (Node's connectTimeout).
  uint32_t connect_timeout_ms = 45000;
  DecodeLimits limits;
  /// Default: InMemoryAdapter.
  AdapterFactory adapter;
  /// Written into socket ids (they name their node and loop, like Engine.IO sids).
  uint16_t node_id = 0;
  /// Compression of broadcast frames for permessage-deflate receivers: set it to the Engine.IO
  /// options' `deflate` when `per_message_deflate` is on. Off by default (as Engine.IO).
  ws::DeflateOptions deflate = [] {
    ws::DeflateOptions d;
    d.enabled = false;
    return d;
  }();
};

class Server final : public engineio::Handler {
 public:
  Server(Loops& loops, ServerOptions options = {});
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const ServerOptions& options() const { return options_; }
  Loops& loops() const { return loops_; }

  /// The namespace `name` ("/" is the main one), created on first use. Thread-safe.
  Namespace& of(std::string_view name);
  /// A parent namespace: clients may connect to any name `match` accepts; each such name
  /// becomes a child namespace sharing the parent's middleware and connection handlers.
  Namespace& of(NamespaceMatcher match);
  Namespace& of(const std::regex& pattern);
  /// The namespace `name` if it exists (children included), else nullptr. Thread-safe.
  Namespace* find(std::string_view name) const;

  // Shorthands for the main namespace, as in Node.
  void use(Middleware m) { main_->use(std::move(m)); }
  void on_connection(ConnectionHandler h) { main_->on_connection(std::move(h)); }
  BroadcastOperator to(std::string_view room) { return main_->to(room); }
  BroadcastOperator in(std::string_view room) { return main_->to(room); }
  BroadcastOperator except(std::string_view room) { return main_->except(room); }
  BroadcastOperator local() { return main_->local(); }
  // NOLINTNEXTLINE(readability-identifier-naming): `volatile` is a keyword
  BroadcastOperator volatile_() {
    return main_->volatile_();
  }  // NOLINT(readability-identifier-naming)
  BroadcastOperator timeout(uint32_t ms) { return main_->timeout(ms); }
  template <typename... A>
  void emit(std::string_view event, A&&... args) {
    main_->emit(event, std::forward<A>(args)...);
  }

  /// Adopts a new connection (what on_open does; tests call it with a fake Link).
  Client& open(std::unique_ptr<Link> link);
  /// Clients on `loop` (its thread).
  size_t client_count(int loop) const;
  /// Frees `c` at the end of the current turn of its loop.
  void retire(std::unique_ptr<Client> c);
  void retire(std::unique_ptr<Socket> s);

  // engineio::Handler
  void on_open(engineio::Socket& s) override;
  void on_message(engineio::Socket& s, std::string_view text) override;
  void on_binary(engineio::Socket& s, std::span<const uint8_t> data) override;
  void on_close(engineio::Socket& s, std::string_view reason) override;
  /// A client's Engine.IO connection closed (what on_close does for a Link of a test).
  void closed(Client& c, std::string_view reason);

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct PerLoop {
    PerLoop() = default;
    PerLoop(const PerLoop&) = delete;
    PerLoop& operator=(const PerLoop&) = delete;
    ~PerLoop();  // frees the clients still open
    // Owning. Each client knows its position (Client::slot_): unlinking swaps the last one
    // into it. One pointer per client, where a hash map costs a node and a bucket (~50 bytes).
    std::vector<Client*> clients;
    std::vector<std::unique_ptr<Client>> dead_clients;
    std::vector<std::unique_ptr<Socket>> dead_sockets;
    bool reap_scheduled = false;
  };
  friend class Client;
  /// A parent that accepts `name` creates and returns its child; nullptr when none does.
  Namespace* match_dynamic(std::string_view name, const Args& auth);
  /// Lists a new client on its loop and starts it (its connect timeout).
  Client& adopt(Client* c);
  void schedule_reap(int loop);

  Loops& loops_;
  ServerOptions options_;
  mutable std::mutex nsps_mu_;  // namespaces are created rarely (configuration, CONNECT)
  std::unordered_map<std::string, std::unique_ptr<Namespace>, SvHash, std::equal_to<>> nsps_;
  std::vector<std::unique_ptr<Namespace>> parents_;
  Namespace* main_ = nullptr;
  std::unique_ptr<PerLoop[]> per_loop_;
};

}  // namespace sb::socketio
