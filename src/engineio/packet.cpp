#include "engineio/packet.h"

#include <algorithm>
#include <cstring>

#include "common/base64.h"
#include "engineio/json_writer.h"

namespace sb::engineio {

std::string_view packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::kOpen:
      return "open";
    case PacketType::kClose:
      return "close";
    case PacketType::kPing:
      return "ping";
    case PacketType::kPong:
      return "pong";
    case PacketType::kMessage:
      return "message";
    case PacketType::kUpgrade:
      return "upgrade";
    case PacketType::kNoop:
      return "noop";
  }
  return "unknown";
}

Result<Packet> decode_text_packet(std::string_view text) {
  if (text.empty()) return Error{Errc::kProtocol, "empty packet"};
  const char c = text[0];
  if (c < '0' || c > '6') return Error{Errc::kProtocol, "unknown packet type"};
  Packet p;
  p.type = static_cast<PacketType>(c - '0');
  p.data = text.substr(1);
  return p;
}

Packet decode_binary_packet(std::span<const uint8_t> frame) {
  Packet p;
  p.type = PacketType::kMessage;
  p.binary = true;
  p.bytes = frame;
  return p;
}

void encode_text_packet(std::string& out, PacketType type, std::string_view data) {
  out.push_back(packet_type_char(type));
  out.append(data);
}

Result<bool> PayloadDecoder::next(Packet& out) {
  if (!started_) {
    started_ = true;
    const size_t packets =
        1 + static_cast<size_t>(std::count(rest_.begin(), rest_.end(), kRecordSeparator));
    if (packets > max_packets_) {
      done_ = true;
      return Error{Errc::kTooLarge, "too many packets in payload"};
    }
  }
  if (done_) return false;
  const size_t sep = rest_.find(kRecordSeparator);
  std::string_view entry = rest_.substr(0, sep);
  if (sep == std::string_view::npos) {
    done_ = true;
    rest_ = {};
  } else {
    rest_.remove_prefix(sep + 1);
  }
  if (!entry.empty() && entry[0] == 'b') {
    const std::string_view b64 = entry.substr(1);
    scratch_.resize(base64_decoded_max_size(b64.size()));
    auto n = base64_decode_to(b64, scratch_.data());
    if (!n) {
      done_ = true;
      return Error{Errc::kProtocol, "bad base64 in payload"};
    }
    out = decode_binary_packet({scratch_.data(), *n});
    return true;
  }
  auto p = decode_text_packet(entry);
  if (!p) {
    done_ = true;
    return p.error();
  }
  out = *p;
  return true;
}

size_t payload_size(std::span<const OutPacket> packets) {
  size_t n = packets.empty() ? 0 : packets.size() - 1;  // separators
  for (const auto& p : packets) {
    n += p.binary ? 1 + base64_encoded_size(p.bytes.size()) : 1 + p.text.size();
  }
  return n;
}

size_t encode_payload_to(std::span<const OutPacket> packets, char* out) {
  char* w = out;
  for (size_t i = 0; i < packets.size(); ++i) {
    const auto& p = packets[i];
    if (i > 0) *w++ = kRecordSeparator;
    if (p.binary) {
      *w++ = 'b';
      w += base64_encode_to(p.bytes, w);
    } else {
      *w++ = packet_type_char(p.type);
      if (!p.text.empty()) std::memcpy(w, p.text.data(), p.text.size());
      w += p.text.size();
    }
  }
  return static_cast<size_t>(w - out);
}

void encode_payload(std::span<const OutPacket> packets, std::string& out) {
  const size_t old = out.size();
  out.resize(old + payload_size(packets));
  encode_payload_to(packets, out.data() + old);
}

void encode_open_packet(std::string& out, const OpenInfo& info) {
  out.push_back(packet_type_char(PacketType::kOpen));
  JsonWriter w(out);
  w.begin_object().key("sid").string(info.sid).key("upgrades").begin_array();
  if (info.upgrade_to_websocket) w.string("websocket");
  w.end_array();
  w.key("pingInterval").number(info.ping_interval_ms);
  w.key("pingTimeout").number(info.ping_timeout_ms);
  w.key("maxPayload").number(info.max_payload);
  w.end_object();
}

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTransportUnknown:
      return "Transport unknown";
    case ErrorCode::kUnknownSid:
      return "Session ID unknown";
    case ErrorCode::kBadHandshakeMethod:
      return "Bad handshake method";
    case ErrorCode::kBadRequest:
      return "Bad request";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kUnsupportedProtocolVersion:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

int error_http_status(ErrorCode code) {
  return code == ErrorCode::kForbidden ? 403 : 400;
}

std::string error_body(ErrorCode code, std::string_view message) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("code").number(static_cast<int64_t>(code));
  w.key("message").string(message.empty() ? error_message(code) : message).end_object();
  return out;
}

}  // namespace sb::engineio
