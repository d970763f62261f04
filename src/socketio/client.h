#pragma once
// One Engine.IO connection seen by Socket.IO (Node's Client): decodes its messages into
// packets, routes them to the namespace sockets multiplexed on it, enforces the connection
// rules (CONNECT within connect_timeout, one socket per namespace, no packet for a namespace
// not joined, any malformed packet closes the connection) and owns its sockets.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/timer_wheel.h"
#include "socketio/decoder.h"
#include "socketio/runtime.h"
#include "socketio/socket.h"

namespace sb::socketio {

class Server;
class Namespace;

class Client {
 public:
  Client(Server& server, std::unique_ptr<Link> link);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Link& link() const { return *link_; }
  int loop() const { return link_->loop(); }
  Server& server() const { return server_; }
  bool open() const { return !closed_ && link_->is_open(); }

  /// Engine.IO input.
  void on_text(std::string_view text);
  void on_binary(std::span<const uint8_t> data);
  /// The Engine.IO connection ended: every socket disconnects with `reason`.
  void on_transport_close(std::string_view reason);

  /// Disconnects every socket with "server namespace disconnect", then closes the connection.
  void disconnect_all_and_close();
  /// Closes the connection: sockets disconnect with `reason` (Node: "forced server close").
  void close(std::string_view reason);

  /// Sends one encoded Socket.IO packet and its attachments.
  void send(std::string_view packet, std::span<const Bytes> attachments = {});

 private:
  friend class Socket;
  friend class Namespace;
  void start();
  void on_packet(const Packet& p);
  void connect(std::string_view nsp, std::string_view auth);
  Socket* socket_for(std::string_view nsp) const;
  /// Unlinks the socket (namespace left) and frees it at the end of the turn.
  void remove(Socket& s);
  /// A namespace was joined: the connect timeout no longer applies (its timer is freed).
  void on_joined();
  /// Calls f(Socket*) for a snapshot of the sockets (f may remove them).
  template <typename F>
  void for_each_socket(F&& f);

  // Laid out for idle memory: an idle client is this object, its Link and its sockets.
  Server& server_;
  std::unique_ptr<Link> link_;
  Decoder decoder_;
  // One per namespace (connecting or connected). Most clients join one namespace: the first
  // is held inline, so they need no vector allocation.
  std::unique_ptr<Socket> first_;
  std::unique_ptr<std::vector<std::unique_ptr<Socket>>> more_;  // the others, on demand
  // Only until a namespace is joined (the connect timeout): allocated at start(), freed then.
  std::unique_ptr<net::Timer> connect_timer_;
  uint32_t slot_ = 0;  // position in the server's client list of this loop
  bool closed_ = false;
  bool joined_ = false;  // a namespace was joined once (the connect timeout no longer applies)
  friend class Server;
};

}  // namespace sb::socketio
