#include "engineio/shared_packet.h"

#include <cstring>
#include <string>

#include "common/base64.h"

namespace sb::engineio {

SharedPacket SharedPacket::text(std::string_view message, const ws::DeflateOptions& deflate) {
  // The frame payload and the polling entry are the same bytes: `4` + text.
  net::Blob* b = net::Blob::create(message.size() + 1);
  b->mutable_data()[0] = static_cast<uint8_t>(packet_type_char(PacketType::kMessage));
  if (!message.empty()) std::memcpy(b->mutable_data() + 1, message.data(), message.size());
  b->set_size(message.size() + 1);
  SharedPacket p;
  p.polling = net::BlobPtr(b);
  p.frame = ws::BroadcastFrame::build(ws::MessageType::kText,
                                      {p.polling->data(), p.polling->size()}, deflate);
  return p;
}

SharedPacket SharedPacket::binary_message(std::span<const uint8_t> message,
                                          const ws::DeflateOptions& deflate) {
  SharedPacket p;
  p.binary = true;
  p.frame = ws::BroadcastFrame::build(ws::MessageType::kBinary, message, deflate);
  net::Blob* b = net::Blob::create(1 + base64_encoded_size(message.size()));
  b->mutable_data()[0] = 'b';
  const size_t n = base64_encode_to(message, reinterpret_cast<char*>(b->mutable_data() + 1));
  b->set_size(1 + n);
  p.polling = net::BlobPtr(b);
  return p;
}

}  // namespace sb::engineio
