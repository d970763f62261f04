#pragma once
// Engine.IO v4 packet codec, sans-I/O. A text packet is one ASCII type digit followed by its
// data; a WebSocket binary frame is one binary `message`; a polling payload joins packets with
// the record separator 0x1e and carries binary messages as `b` + base64. Decoding never copies
// text: a decoded Packet views the caller's bytes (or the PayloadDecoder's scratch for `b`).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sb::engineio {

enum class PacketType : uint8_t {
  kOpen = 0,
  kClose = 1,
  kPing = 2,
  kPong = 3,
  kMessage = 4,
  kUpgrade = 5,
  kNoop = 6,
};

/// "open", "close", ... as engine.io-parser names them.
std::string_view packet_type_name(PacketType t);
/// The type digit written on the wire.
constexpr char packet_type_char(PacketType t) {
  return static_cast<char>('0' + static_cast<int>(t));
}

/// Record separator between packets of a polling payload.
inline constexpr char kRecordSeparator = '\x1e';
/// Default for PayloadDecoder's packet-count guard (the byte limit is the caller's
/// maxHttpBufferSize check; this bounds per-packet work in a body of tiny packets).
inline constexpr size_t kDefaultMaxPayloadPackets = 10000;

/// One decoded packet. Text packets: `data` views the bytes after the type digit. Binary
/// messages (type kMessage): `bytes` views the payload.
struct Packet {
  PacketType type = PacketType::kMessage;
  bool binary = false;
  std::string_view data;
  std::span<const uint8_t> bytes;
};

/// Decodes one text packet (a WebSocket text frame, or one entry of a polling payload that
/// does not start with `b`). Empty input or an unknown type character is kProtocol.
Result<Packet> decode_text_packet(std::string_view text);
/// A WebSocket binary frame is always one binary message.
Packet decode_binary_packet(std::span<const uint8_t> frame);

/// Appends the text form `<digit><data>`.
void encode_text_packet(std::string& out, PacketType type, std::string_view data = {});

/// Reads the packets of a polling POST body one at a time. The whole body is refused up front
/// (kTooLarge) if it holds more than `max_packets` packets; an empty packet, an unknown type or
/// bad base64 is kProtocol — the session closes on either. Packets before a bad one have
/// already been returned, as in the Node reference.
class PayloadDecoder {
 public:
  explicit PayloadDecoder(std::string_view body, size_t max_packets = kDefaultMaxPayloadPackets)
      : rest_(body), max_packets_(max_packets) {}

  /// Fills `out` and returns true, or returns false at the end of the body. A binary packet's
  /// bytes live in this decoder until the next call.
  Result<bool> next(Packet& out);

 private:
  std::string_view rest_;
  size_t max_packets_;
  bool started_ = false;
  bool done_ = false;
  std::vector<uint8_t> scratch_;
};

/// A packet to encode into a polling GET body: text, or a binary message.
struct OutPacket {
  PacketType type = PacketType::kMessage;
  std::string_view text;
  std::span<const uint8_t> bytes;
  bool binary = false;

  static OutPacket text_packet(PacketType t, std::string_view d = {}) { return {t, d, {}, false}; }
  static OutPacket binary_message(std::span<const uint8_t> b) {
    return {PacketType::kMessage, {}, b, true};
  }
};

/// Exact size of the polling payload encode_payload_to writes.
size_t payload_size(std::span<const OutPacket> packets);
/// Writes the payload (`\x1e`-joined; binary as `b` + base64) into `out`, which holds at least
/// payload_size(packets) bytes. Returns the bytes written. No allocation.
size_t encode_payload_to(std::span<const OutPacket> packets, char* out);
/// Appends the payload to `out` (one resize, then encode_payload_to).
void encode_payload(std::span<const OutPacket> packets, std::string& out);

/// Handshake values of the open packet.
struct OpenInfo {
  std::string_view sid;
  bool upgrade_to_websocket = true;  // `["websocket"]` on polling, `[]` on a WebSocket handshake
  uint64_t ping_interval_ms = 25000;
  uint64_t ping_timeout_ms = 20000;
  uint64_t max_payload = 1000000;
};
/// Appends the open packet `0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,
/// "maxPayload":…}` — exactly these keys, in Node's order.
void encode_open_packet(std::string& out, const OpenInfo& info);

/// Engine.IO HTTP error codes (the JSON `code`).
enum class ErrorCode : uint8_t {
  kTransportUnknown = 0,
  kUnknownSid = 1,
  kBadHandshakeMethod = 2,
  kBadRequest = 3,
  kForbidden = 4,
  kUnsupportedProtocolVersion = 5,
};
/// Node's message for `code` ("Transport unknown", "Session ID unknown", ...).
std::string_view error_message(ErrorCode code);
/// HTTP status: 403 for kForbidden, 400 otherwise.
int error_http_status(ErrorCode code);
/// `{"code":N,"message":"…"}`; `message` overrides the default (the allowRequest hook's text).
std::string error_body(ErrorCode code, std::string_view message = {});

}  // namespace sb::engineio
