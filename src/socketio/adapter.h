#pragma once
// The adapter: where a namespace keeps room membership and how a broadcast reaches its
// receivers (Node's socket.io-adapter). One per namespace. InMemoryAdapter serves one node;
// the Redis adapters extend it to a cluster (publish, then deliver locally what arrives).
//
// Threading. Membership calls (add_all/del/del_all) run on the socket's loop and touch only
// that loop's index. Node-wide calls (broadcast, fetch_sockets, …) are made on a loop thread;
// the adapter reaches the other loops by posting, and calls back on the calling loop. Called
// from outside any loop, they run on loop 0 (and call back there).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/shared_packet.h"
#include "socketio/json.h"

namespace sb::socketio {

class Namespace;
class Socket;

struct BroadcastFlags {
  /// Only this node (meaningful for cluster adapters; one node's loops are all "local").
  bool local = false;
  /// May be dropped for a receiver that cannot take it now.
  bool volatile_ = false;
  /// With acks: how long to wait for all receivers.
  std::optional<uint32_t> timeout_ms;
};

struct BroadcastOptions {
  std::vector<std::string> rooms;   // empty: every socket of the namespace
  std::vector<std::string> except;  // sockets in any of these rooms are skipped
  BroadcastFlags flags;
};

/// What a cluster adapter publishes: the EVENT's `data` array as JSON (`["event",arg,…]`, binary
/// arguments as `{"_placeholder":true,"num":K}`) and the attachments those placeholders name.
struct PacketSource {
  std::string data_json{};
  std::vector<Bytes> attachments;
};

/// A Socket.IO packet serialized once, in the form every receiver's transport takes by
/// reference: the text message and each binary attachment. Copying it is a few atomic
/// increments — done once per destination loop, never per receiver.
struct OutPacket {
  engineio::SharedPacket text;
  std::vector<engineio::SharedPacket> attachments;
  /// The packet before transport encoding, kept only for adapters that forward broadcasts to
  /// other nodes (Adapter::wants_source()); null otherwise.
  std::shared_ptr<const PacketSource> source;
};

/// Encodes an EVENT (BINARY_EVENT when `args` hold binary) once, for any number of receivers.
/// With `keep_source`, the packet also carries its PacketSource (for cluster adapters).
OutPacket encode_shared_event(std::string_view nsp, std::string_view event,
                              std::span<const Json> args, std::optional<uint64_t> ack_id = {},
                              const ws::DeflateOptions& deflate = {}, bool keep_source = false);

/// Builds the OutPacket of an EVENT from its `data` array JSON (`["event",…]`, placeholders
/// for binary) and attachments: what a cluster adapter does once per message from another node.
OutPacket encode_shared_data(std::string_view nsp, std::string_view data_json,
                             const std::vector<Bytes>& attachments,
                             std::optional<uint64_t> ack_id = {},
                             const ws::DeflateOptions& deflate = {});

/// Broadcast acks: `error` empty when every receiver answered, else "operation has timed out";
/// `responses` holds each receiver's first ack argument as raw JSON, in arrival order.
using BroadcastAckCallback =
    std::function<void(std::string_view error, std::vector<std::string> responses)>;

/// What fetch_sockets returns about a socket (a copy: the socket lives on its own loop, or on
/// another node). Reach it, wherever it is, with RemoteSocket (broadcast.h).
struct SocketInfo {
  std::string id;
  int loop = -1;  // -1: on another node
  std::vector<std::string> rooms;
  /// Sockets of other nodes only: their handshake (Node's `socket.handshake`) and `data`, as the
  /// owning node sent them (raw JSON; empty when absent).
  std::string handshake_json{};
  std::string data_json{};
  bool remote() const { return loop < 0; }
};

/// Answers a server-side event from another node (Node's serverSideEmit acknowledgement): call
/// it once with the reply; later calls do nothing.
using ServerSideAck = std::function<void(const Json& reply)>;

class Adapter {
 public:
  explicit Adapter(Namespace& nsp) : nsp_(nsp) {}
  virtual ~Adapter();
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  Namespace& nsp() const { return nsp_; }

  // --- membership, on the socket's loop ---
  virtual void add_all(Socket& s, std::span<const std::string> rooms) = 0;
  virtual void del(Socket& s, std::string_view room) = 0;
  virtual void del_all(Socket& s) = 0;

  // --- node-wide (cluster-wide for cluster adapters) ---
  virtual void broadcast(const OutPacket& p, const BroadcastOptions& opts) = 0;
  /// The packet carries ack id `ack_id`. `done` runs once on the calling loop: when every
  /// receiver answered, or when opts.flags.timeout_ms passed (with the answers so far).
  virtual void broadcast_with_ack(const OutPacket& p, const BroadcastOptions& opts, uint64_t ack_id,
                                  BroadcastAckCallback done) = 0;
  /// A receiver of broadcast `collector` answered with `first_arg` (raw JSON). Called on the
  /// loop that started the broadcast.
  // By value: implementations keep the answer (moved in by the caller).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void on_broadcast_ack(uint64_t /*collector*/, std::string /*first_arg*/) {}
  /// Ids of the sockets in any of `rooms` (all when empty).
  virtual void sockets(std::vector<std::string> rooms,
                       std::function<void(std::vector<std::string>)> cb) = 0;
  /// The rooms of socket `id`, nullopt if unknown.
  virtual void socket_rooms(std::string id,
                            std::function<void(std::optional<std::vector<std::string>>)> cb) = 0;
  virtual void fetch_sockets(const BroadcastOptions& opts,
                             std::function<void(std::vector<SocketInfo>)> cb) = 0;
  virtual void add_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) = 0;
  virtual void del_sockets(const BroadcastOptions& opts, std::vector<std::string> rooms) = 0;
  virtual void disconnect_sockets(const BroadcastOptions& opts, bool close) = 0;
  /// Emits to the other servers of the cluster (none here).
  virtual void server_side_emit(std::string_view /*event*/, std::span<const Json> /*args*/) {}
  /// Emits to the other servers and collects their first ack argument each (raw JSON). `done`
  /// runs once: error empty when every server answered, else a description with the answers
  /// so far. Alone: at once, with no answers.
  // By value: cluster adapters keep the callback (moved in by the caller).
  virtual void server_side_emit_with_ack(
      std::string_view /*event*/, std::span<const Json> /*args*/,
      BroadcastAckCallback done) {  // NOLINT(performance-unnecessary-value-param)
    if (done) done({}, {});
  }
  /// Every room of the namespace, cluster-wide (socket-id rooms included, as Node).
  virtual void all_rooms(std::function<void(std::vector<std::string>)> cb);
  /// Servers in the cluster, this one included (a cached value for cluster adapters).
  virtual size_t server_count() const { return 1; }
  /// The same, asked fresh (cluster adapters ask Redis). `cb` runs on the calling loop.
  // By value: cluster adapters keep the callback until Redis answers.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void fetch_server_count(std::function<void(size_t)> cb) { cb(server_count()); }
  /// True when broadcasts should carry their PacketSource (cluster adapters).
  virtual bool wants_source() const { return false; }

 private:
  Namespace& nsp_;
};

}  // namespace sb::socketio
