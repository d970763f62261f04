#pragma once
// The wire format of `createShardedAdapter` (@socket.io/redis-adapter 8.3, built on
// socket.io-adapter's ClusterAdapter), sans-I/O: the envelope `{type, data, uid, nsp}` as JSON,
// or the whole message as MessagePack when a broadcast carries binary (receivers tell them
// apart by a leading `{`). Channels: `<prefix>#<nsp>#` (everything, and the server count),
// `<prefix>#<nsp>#<uid>#` (answers to one node), `<prefix>#<nsp>#<room>#` (dynamic rooms).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/classic_codec.h"
#include "common/result.h"
#include "socketio/adapter.h"

namespace sb::adapter::sharded {

/// socket.io-adapter's `MessageType` (the heartbeat types 1, 2, 13 are not used here).
enum class MessageType : uint8_t {
  kBroadcast = 3,
  kSocketsJoin = 4,
  kSocketsLeave = 5,
  kDisconnectSockets = 6,
  kFetchSockets = 7,
  kFetchSocketsResponse = 8,
  kServerSideEmit = 9,
  kServerSideEmitResponse = 10,
  kBroadcastClientCount = 11,
  kBroadcastAck = 12,
};

/// randomBytes(8).toString("hex"): the ClusterAdapter's uid and request ids.
std::string random_id();

struct Message {
  MessageType type = MessageType::kBroadcast;
  std::string uid;
  std::string nsp = "/";
  std::string request_id;
  classic::WireOpts opts;
  std::vector<std::string> rooms;  // 4, 5
  bool close = false;              // 6
  /// 3: packet.data (`["event",…]`, placeholders for binary); 9: packet (`[event,…]`);
  /// 10, 12: the answer (raw JSON, empty when absent).
  std::string data_json;
  std::vector<socketio::Bytes> attachments;     // 3
  uint64_t client_count = 0;                    // 11
  std::vector<classic::FetchedSocket> sockets;  // 8
};
Result<Message> decode(std::string_view payload);

/// BROADCAST; `request_id` non-empty: with acks. MessagePack when `src` has attachments.
Result<void> encode_broadcast(std::string& out, std::string_view uid, std::string_view nsp,
                              const socketio::PacketSource& src,
                              const socketio::BroadcastOptions& opts,
                              std::string_view request_id = {});
/// SOCKETS_JOIN / SOCKETS_LEAVE (`rooms`) or DISCONNECT_SOCKETS (`close`).
void encode_sockets(std::string& out, MessageType type, std::string_view uid, std::string_view nsp,
                    const socketio::BroadcastOptions& opts, const std::vector<std::string>& rooms,
                    bool close);
void encode_fetch(std::string& out, std::string_view uid, std::string_view nsp,
                  const socketio::BroadcastOptions& opts, std::string_view request_id);
/// `sockets_json`: members `{id,handshake,rooms,data}` (classic::append_fetched_socket).
void encode_fetch_response(std::string& out, std::string_view uid, std::string_view nsp,
                           std::string_view request_id, std::string_view sockets_json);
/// `data_json`: `[event, …args]`; `request_id` empty: no ack wanted.
void encode_server_side_emit(std::string& out, std::string_view uid, std::string_view nsp,
                             std::string_view request_id, std::string_view data_json);
/// SERVER_SIDE_EMIT_RESPONSE (10) or BROADCAST_ACK (12) with the answer (raw JSON).
void encode_answer(std::string& out, MessageType type, std::string_view uid, std::string_view nsp,
                   std::string_view request_id, std::string_view arg_json);
void encode_client_count(std::string& out, std::string_view uid, std::string_view nsp,
                         std::string_view request_id, uint64_t count);

}  // namespace sb::adapter::sharded
