#pragma once
// The wire format of `@socket.io/redis-adapter` 8.3 (the classic adapter), sans-I/O: channel
// names, the MessagePack broadcast `[uid, packet, opts]`, and the inter-node requests and
// responses — JSON, except BROADCAST (7) and BROADCAST_ACK (9), which are MessagePack
// (receivers tell them apart by a leading `{`). Bytes match what the Node adapter writes
// (notepack.io, JSON.stringify), so Node and Switchboard nodes share one cluster.
//
// Untrusted input: everything decoded here comes from Redis, i.e. from any node or emitter.
// Decoders return an error for anything malformed; the caller drops and counts it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "socketio/adapter.h"

namespace sb::adapter::classic {

/// `enum RequestType` of the Node adapter.
enum class RequestType : uint8_t {
  kSockets = 0,
  kAllRooms = 1,
  kRemoteJoin = 2,
  kRemoteLeave = 3,
  kRemoteDisconnect = 4,
  kRemoteFetch = 5,
  kServerSideEmit = 6,
  kBroadcast = 7,
  kBroadcastClientCount = 8,
  kBroadcastAck = 9,
  /// Ours: "a node just subscribed" (JSON `{uid, type:100}`), so peers that skip publishing
  /// while alone start publishing at once. Node adapters ignore unknown types.
  kHello = 100,
};

void encode_hello(std::string& out, std::string_view uid);

/// Limits on what a peer can make us build from one message.
inline constexpr int kMaxDepth = 64;
inline constexpr size_t kMaxRooms = 100000;

struct Channels {
  Channels(std::string_view key, std::string_view nsp);
  std::string broadcast;  // `<key>#<nsp>#` (also the PSUBSCRIBE pattern minus `*`)
  std::string pattern;    // `<key>#<nsp>#*`
  std::string request;    // `<key>-request#<nsp>#`
  std::string response;   // `<key>-response#<nsp>#`
  /// `<key>#<nsp>#<room>#` for exactly one room, else `<key>#<nsp>#` (as the Node adapter).
  std::string broadcast_channel(const std::vector<std::string>& rooms) const;
  /// `<key>-response#<nsp>#<uid>#`
  std::string specific_response(std::string_view uid) const;
};

/// uid2(n): n random URL-safe characters (`A-Za-z0-9_-`), the Node adapter's uid/requestId.
std::string random_uid(size_t n = 6);

/// The msgpack `{rooms:[…], except:[…], flags:{…}}` opts (flags: volatile, timeout).
struct WireOpts {
  std::vector<std::string> rooms;
  std::vector<std::string> except;
  bool volatile_ = false;
  std::optional<uint32_t> timeout_ms;
  socketio::BroadcastOptions to_options() const;
  /// The same, moving the room lists out (this is left with empty lists).
  socketio::BroadcastOptions take_options();
};

// --- broadcast (channel `<key>#<nsp>#[room#]`) ---

/// Appends `[uid, {type:2, data, nsp}, {rooms, except, flags}]`. `src` is the event's data array
/// as JSON with its attachments (binary becomes msgpack bin, as notepack writes a Buffer).
Result<void> encode_broadcast(std::string& out, std::string_view uid, std::string_view nsp,
                              const socketio::PacketSource& src,
                              const socketio::BroadcastOptions& opts);

struct Broadcast {
  std::string uid;
  std::string nsp = "/";  // a missing packet.nsp means "/" (as Node)
  std::string data_json;  // `["event",…]`, placeholders for binary
  std::vector<socketio::Bytes> attachments;
  WireOpts opts;
};
Result<Broadcast> decode_broadcast(std::string_view payload);
/// The same into `out`, whose strings and vectors keep their capacity from one message to the
/// next (a receiver decodes every broadcast of the namespace: no allocation once warm).
Result<void> decode_broadcast(std::string_view payload, Broadcast& out);
/// The uid of a broadcast (its first element), read without decoding the rest; empty when the
/// payload does not start like a broadcast. Redis sends a node its own broadcasts back (the
/// pattern subscription matches them): this drops them for the price of two msgpack headers.
std::string_view peek_broadcast_uid(std::string_view payload);

// --- requests (channel `<key>-request#<nsp>#`) ---

struct Request {
  RequestType type = RequestType::kSockets;
  std::string uid;
  std::string request_id;
  WireOpts opts;                   // 2, 3, 4, 5, 7
  std::vector<std::string> rooms;  // 0: rooms; 2, 3: rooms to join/leave
  bool close = false;              // 4
  bool has_opts = false;           // 2, 3, 4: the 8.x form (else the legacy sid/room form)
  std::string sid, room;           // legacy 2, 3, 4
  std::string data_json;           // 6: `[event, …args]`; 7: packet.data
  std::vector<socketio::Bytes> attachments;  // 7
  std::string packet_nsp = "/";              // 7
};
/// JSON (`{`-prefixed) or MessagePack, as the Node adapter's onrequest.
Result<Request> decode_request(std::string_view payload);

void encode_all_rooms_request(std::string& out, std::string_view uid, std::string_view request_id);
void encode_fetch_request(std::string& out, std::string_view uid, std::string_view request_id,
                          const socketio::BroadcastOptions& opts);
/// REMOTE_JOIN / REMOTE_LEAVE (`rooms` to join or leave) or REMOTE_DISCONNECT (`close`).
void encode_sockets_request(std::string& out, RequestType type, std::string_view uid,
                            const socketio::BroadcastOptions& opts,
                            const std::vector<std::string>& rooms, bool close);
/// SERVER_SIDE_EMIT: `data_json` is `[event, …args]`; `request_id` empty: no ack wanted.
void encode_server_side_emit(std::string& out, std::string_view uid, std::string_view request_id,
                             std::string_view data_json);
/// BROADCAST (with ack), MessagePack `{uid, requestId, type:7, packet:{type:2,data,nsp}, opts}`.
Result<void> encode_broadcast_request(std::string& out, std::string_view uid,
                                      std::string_view request_id, std::string_view nsp,
                                      const socketio::PacketSource& src,
                                      const socketio::BroadcastOptions& opts);

// --- responses (channel `<key>-response#<nsp>#[uid#]`) ---

struct FetchedSocket {
  std::string id;
  std::vector<std::string> rooms;
  std::string handshake_json;  // raw JSON, empty when absent
  std::string data_json;       // raw JSON, empty when absent
};

struct Response {
  std::optional<RequestType> type;  // present on 6, 8, 9
  std::string request_id;
  bool has_sockets = false;  // 0, 5 (ids for 0)
  std::vector<FetchedSocket> sockets;
  bool has_rooms = false;  // 1
  std::vector<std::string> rooms;
  std::string data_json;      // 6: the ack argument; 9: the ack argument (packet)
  uint64_t client_count = 0;  // 8
};
Result<Response> decode_response(std::string_view payload);

void encode_sockets_response(std::string& out, std::string_view request_id,
                             const std::vector<std::string>& ids);
void encode_all_rooms_response(std::string& out, std::string_view request_id,
                               const std::vector<std::string>& rooms);
/// `sockets_json`: the members of the `sockets` array, each `{id,handshake,rooms,data}`.
void encode_fetch_response(std::string& out, std::string_view request_id,
                           std::string_view sockets_json);
/// One `{id,handshake,rooms,data}` member (handshake/data raw JSON; omitted when empty).
void append_fetched_socket(std::string& out, std::string_view id,
                           const std::vector<std::string>& rooms, std::string_view handshake_json,
                           std::string_view data_json);
void encode_server_side_emit_response(std::string& out, std::string_view request_id,
                                      std::string_view data_json);
void encode_client_count(std::string& out, std::string_view request_id, uint64_t count);
/// MessagePack `{type:9, requestId, packet:<arg>}` from the ack's first argument (raw JSON).
Result<void> encode_broadcast_ack(std::string& out, std::string_view request_id,
                                  std::string_view arg_json);

}  // namespace sb::adapter::classic
