#include "socketio/encoder.h"

#include "common/base64.h"
#include "engineio/json_writer.h"
#include "engineio/packet.h"

namespace sb::socketio {

using engineio::append_json_number;
using engineio::append_json_string;

void append_header(std::string& out, PacketType type, std::string_view nsp,
                   std::optional<uint64_t> id, uint32_t attachments) {
  out.push_back(static_cast<char>('0' + static_cast<int>(type)));
  if (type == PacketType::kBinaryEvent || type == PacketType::kBinaryAck) {
    append_json_number(out, uint64_t{attachments});
    out.push_back('-');
  }
  if (!nsp.empty() && nsp != "/") {
    out.append(nsp);
    out.push_back(',');
  }
  if (id) append_json_number(out, *id);
}

void encode_event(std::string& out, std::string_view nsp, std::string_view event,
                  std::string_view args_json, std::optional<uint64_t> id, uint32_t attachments) {
  append_header(out, attachments > 0 ? PacketType::kBinaryEvent : PacketType::kEvent, nsp, id,
                attachments);
  out.push_back('[');
  append_json_string(out, event);
  if (!args_json.empty()) {
    out.push_back(',');
    out.append(args_json);
  }
  out.push_back(']');
}

void encode_ack(std::string& out, std::string_view nsp, uint64_t id, std::string_view args_json,
                uint32_t attachments) {
  append_header(out, attachments > 0 ? PacketType::kBinaryAck : PacketType::kAck, nsp, id,
                attachments);
  out.push_back('[');
  out.append(args_json);
  out.push_back(']');
}

void encode_connect(std::string& out, std::string_view nsp, std::string_view payload_json) {
  append_header(out, PacketType::kConnect, nsp);
  out.append(payload_json);
}

void encode_connect_reply(std::string& out, std::string_view nsp, std::string_view sid,
                          std::string_view pid) {
  append_header(out, PacketType::kConnect, nsp);
  out.append("{\"sid\":");
  append_json_string(out, sid);
  if (!pid.empty()) {
    out.append(",\"pid\":");
    append_json_string(out, pid);
  }
  out.push_back('}');
}

void encode_connect_error(std::string& out, std::string_view nsp, std::string_view message,
                          std::string_view data_json) {
  append_header(out, PacketType::kConnectError, nsp);
  out.append("{\"message\":");
  append_json_string(out, message);
  if (!data_json.empty()) {
    out.append(",\"data\":");
    out.append(data_json);
  }
  out.push_back('}');
}

void encode_disconnect(std::string& out, std::string_view nsp) {
  append_header(out, PacketType::kDisconnect, nsp);
}

void append_placeholder(std::string& out, uint32_t num) {
  out.append("{\"_placeholder\":true,\"num\":");
  append_json_number(out, uint64_t{num});
  out.push_back('}');
}

EncodedPacket encode_for_transports(std::string_view socketio_packet,
                                    std::vector<std::vector<uint8_t>> attachments) {
  EncodedPacket e;
  e.text.reserve(1 + socketio_packet.size());
  engineio::encode_text_packet(e.text, engineio::PacketType::kMessage, socketio_packet);
  e.text_header = ws::make_header(ws::Opcode::kText, e.text.size());
  e.attachments = std::move(attachments);
  if (e.attachments.empty()) return e;
  size_t size = e.text.size();
  for (const auto& a : e.attachments)
    size += 2 + base64_encoded_size(a.size());
  e.polling_with_attachments.resize(size);
  char* w = e.polling_with_attachments.data();
  w = std::copy(e.text.begin(), e.text.end(), w);
  e.attachment_headers.reserve(e.attachments.size());
  for (const auto& a : e.attachments) {
    *w++ = engineio::kRecordSeparator;
    *w++ = 'b';
    w += base64_encode_to(a, w);
    e.attachment_headers.push_back(ws::make_header(ws::Opcode::kBinary, a.size()));
  }
  return e;
}

}  // namespace sb::socketio
