#pragma once
// Socket.IO v5 packet decoding, sans-I/O: `<type>[<attachments>-][<nsp>,][<ack id>][<json>]`.
// The JSON payload is fully validated by simdjson (DOM, iterative, depth-limited) and checked
// against the per-type rule of socket.io-parser; an EVENT yields its name and the *raw bytes* of
// its arguments, so a server can forward them without re-encoding. Binary attachments are
// collected by socketio::Decoder (decoder.h); this file decodes one text packet.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sb::socketio {

enum class PacketType : uint8_t {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

std::string_view packet_type_name(PacketType t);  // "CONNECT", "EVENT", ...

/// Largest ack id: Number.MAX_SAFE_INTEGER, the largest id a JavaScript peer can represent.
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;

struct DecodeLimits {
  /// Deepest nesting of arrays/objects in the payload; the EVENT array itself is level 1.
  uint32_t max_depth = 64;
  /// socket.io-parser's maxAttachments.
  uint32_t max_attachments = 10;
};

/// Names a peer may not use for an event (socket.io-parser's RESERVED_EVENTS).
bool is_reserved_event(std::string_view name);

/// A decoded packet. The string_views point into the decoded text (for packets completed by
/// a Decoder: into the Decoder) and live as long as it does.
struct Packet {
  PacketType type = PacketType::kConnect;
  /// BINARY_EVENT / BINARY_ACK: number of attachments announced in the header.
  uint32_t attachment_count = 0;
  std::string_view nsp = "/";
  std::optional<uint64_t> id;
  /// The whole JSON payload as received; empty when absent.
  std::string_view data;
  /// EVENT / BINARY_EVENT: the event name, unescaped. A numeric name (accepted by the
  /// reference parser) is its JSON text, e.g. "42"; `numeric_event` is then true.
  std::string event;
  bool numeric_event = false;
  /// EVENT: the raw JSON of the arguments after the name; ACK: of all elements — the array's
  /// members joined by commas as received, without the brackets (empty when there are none).
  /// `2["chat",{"a":1},2]` gives args `{"a":1},2`.
  std::string_view args;
  /// Attachments of a completed binary packet (set by Decoder; empty otherwise).
  std::span<const std::span<const uint8_t>> attachments;
};

/// Decodes one Socket.IO packet (the data of an Engine.IO text message). Errors: kProtocol with
/// a reason for every malformed input, kTooLarge for too many attachments or too deep JSON.
/// Binary types are validated here, placeholders included (each `num` an integer below the
/// announced count, every attachment referenced); their attachments are not yet attached.
/// `padded`: the caller guarantees simdjson::SIMDJSON_PADDING readable bytes after `text`
/// (e.g. a padded receive buffer), so the JSON is parsed in place; otherwise it is copied into
/// a per-thread padded buffer first.
Result<Packet> decode_packet(std::string_view text, const DecodeLimits& limits = {},
                             bool padded = false);

}  // namespace sb::socketio
