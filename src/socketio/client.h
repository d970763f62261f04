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

#include "common/slab_pool.h"
#include "net/timer_wheel.h"
#include "socketio/decoder.h"
#include "socketio/runtime.h"
#include "socketio/socket.h"

namespace sb::socketio {

class Server;
class Namespace;

class Client : public slab::SlabAllocated {
 public:
  /// A client on an Engine.IO session (production: no Link object per connection).
  Client(Server& server, engineio::Socket& session);
  /// A client on another Link (tests' fake links).
  Client(Server& server, std::unique_ptr<Link> link);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int loop() const { return loop_; }
  Server& server() const { return server_; }
  bool open() const { return !closed_ && link_open(); }

  // --- the Engine.IO connection, whichever kind (see session_) ---
  bool link_open() const {
    return session_ != nullptr ? session_->is_open() : link_ != nullptr && link_->is_open();
  }
  /// Whether the transport can take a packet now (volatile packets are dropped when not).
  bool writable() const {
    return session_ != nullptr ? session_->writable() : link_ != nullptr && link_->writable();
  }
  /// Queues a broadcast packet (a no-op once the connection is gone).
  void send_shared(const engineio::LocalPacket& p) {
    if (session_ != nullptr) {
      session_->send_shared(p);
    } else if (link_ != nullptr) {
      link_->send_shared(p);
    }
  }
  /// The handshake request; null when there is none (gone, or a test's link).
  const engineio::HandshakeInfo* handshake() const;
  /// The Engine.IO session id (never shown to other clients).
  std::string_view eio_sid() const;

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
  /// The Engine.IO session is being freed (it closed): forget it.
  void detach() { session_ = nullptr; }
  void send_text(std::string_view packet);
  void send_binary(std::span<const uint8_t> data);
  void close_link();
  /// Calls f(Socket*) for a snapshot of the sockets (f may remove them).
  template <typename F>
  void for_each_socket(F&& f);

  // Laid out for idle memory: an idle client is this object and its sockets.
  Server& server_;
  // The connection: an Engine.IO session, called directly — a Link object wrapping it cost
  // every connection a 32-byte allocation and every send a virtual call — or, when null, the
  // Link given at construction (null too once the session is gone).
  engineio::Socket* session_ = nullptr;
  std::unique_ptr<Link> link_;
  // Only while a binary packet's attachments are collected, and after (it keeps the buffers of
  // a client that sends binary): text packets need no per-connection decoder state.
  std::unique_ptr<Decoder> decoder_;
  // One per namespace (connecting or connected). Most clients join one namespace: the first
  // is held inline, so they need no vector allocation.
  std::unique_ptr<Socket> first_;
  // What a client needs only for a while or rarely, behind one pointer: the connect timeout
  // (from start() until a namespace is joined) and the sockets of namespaces after the first.
  struct Rare {
    net::Timer connect_timer;
    std::vector<std::unique_ptr<Socket>> more;
  };
  std::unique_ptr<Rare> rare_;
  uint32_t slot_ = 0;  // position in the server's client list of this loop
  uint16_t loop_;      // loops are numbered in 8 bits (engineio::SidOwner)
  bool closed_ = false;
  bool joined_ = false;  // a namespace was joined once (the connect timeout no longer applies)
  friend class Server;
};

}  // namespace sb::socketio
