#pragma once
// Socket.IO v5 packet encoding. Functions append to a caller string (reusable, no per-call
// allocation once it has grown) and produce exactly socket.io-parser's bytes: the namespace is
// written only when it is not "/", followed by a comma; the ack id follows; then the JSON.
// Arguments are passed as pre-encoded JSON (`args_json`: the array members joined by commas,
// as Packet::args gives them), so a received event can be forwarded without re-encoding.
//
// encode_for_transports() is the serialize-once step of a broadcast: one packet, both wire
// forms (WebSocket frames and a polling payload entry), built once and shared by all receivers.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/packet.h"
#include "ws/frame_writer.h"

namespace sb::socketio {

/// `<type>[<attachments>-][<nsp>,][<id>]`
void append_header(std::string& out, PacketType type, std::string_view nsp,
                   std::optional<uint64_t> id = {}, uint32_t attachments = 0);

/// `2[nsp,][id]["<event>"(,<args_json>)]`; with `attachments` > 0 a BINARY_EVENT
/// `5<n>-…` whose args carry the `{"_placeholder":true,"num":K}` objects.
void encode_event(std::string& out, std::string_view nsp, std::string_view event,
                  std::string_view args_json, std::optional<uint64_t> id = {},
                  uint32_t attachments = 0);
/// `3[nsp,]<id>[<args_json>]`, or BINARY_ACK `6<n>-…` when `attachments` > 0.
void encode_ack(std::string& out, std::string_view nsp, uint64_t id, std::string_view args_json,
                uint32_t attachments = 0);
/// `0[nsp,][<payload_json>]` — the client's CONNECT (payload = auth object, may be empty).
void encode_connect(std::string& out, std::string_view nsp, std::string_view payload_json = {});
/// The server's CONNECT reply `0[nsp,]{"sid":"…"[,"pid":"…"]}`.
void encode_connect_reply(std::string& out, std::string_view nsp, std::string_view sid,
                          std::string_view pid = {});
/// `4[nsp,]{"message":"…"[,"data":<data_json>]}`.
void encode_connect_error(std::string& out, std::string_view nsp, std::string_view message,
                          std::string_view data_json = {});
/// `1[nsp,]`
void encode_disconnect(std::string& out, std::string_view nsp);

/// The `{"_placeholder":true,"num":K}` object for attachment K.
void append_placeholder(std::string& out, uint32_t num);

/// One Socket.IO packet in both transport forms, built once per broadcast.
struct EncodedPacket {
  /// Engine.IO message text `4<socket.io packet>`: the WebSocket text frame payload, and the
  /// first entry of the polling form.
  std::string text;
  /// Raw attachment bytes: each one WebSocket binary frame payload.
  std::vector<std::vector<uint8_t>> attachments;
  /// `text` followed by `\x1eb<base64>` per attachment; empty when there are no attachments
  /// (then the polling form is `text` itself — see polling()).
  std::string polling_with_attachments;
  /// Unmasked, uncompressed WebSocket headers for `text` and for each attachment, so the frames
  /// go out with writev next to the shared payloads. (Connections with permessage-deflate
  /// compress the payloads themselves.)
  ws::FrameHeader text_header;
  std::vector<ws::FrameHeader> attachment_headers;

  /// The polling payload entry (join several with `\x1e`).
  std::string_view polling() const {
    return attachments.empty() ? std::string_view(text) : polling_with_attachments;
  }
};

/// Builds both forms from an encoded Socket.IO packet (`encode_*` output) and its attachments.
EncodedPacket encode_for_transports(std::string_view socketio_packet,
                                    std::vector<std::vector<uint8_t>> attachments = {});

}  // namespace sb::socketio
