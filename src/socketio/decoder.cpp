#include "socketio/decoder.h"

namespace sb::socketio {

namespace {
// A completed packet's buffers are kept for reuse unless they grew beyond this: an idle
// connection should not hold the memory of its largest binary message.
constexpr size_t kKeepCapacity = 16 * 1024;

// The packet of a text message that needs no attachments: per thread, not per connection.
Packet& scratch() {
  thread_local Packet p;
  return p;
}
}  // namespace

void Decoder::release_spent() {
  if (!bin_ || !bin_->spent) return;
  bin_->spent = false;
  bin_->packet = Packet{};
  bin_->spans.clear();
  bin_->ends.clear();
  bin_->blob.clear();
  bin_->header.clear();
  if (bin_->blob.capacity() > kKeepCapacity) bin_->blob = {};
  if (bin_->header.capacity() > kKeepCapacity) bin_->header = {};
}

void Decoder::reset() {
  if (!bin_) return;
  bin_->spent = true;
  bin_->awaiting = 0;
  release_spent();
}

Result<const Packet*> Decoder::on_text(std::string_view text, bool padded) {
  release_spent();
  if (awaiting_attachments()) {
    reset();
    return Error{Errc::kProtocol, "text message while awaiting attachments"};
  }
  auto p = decode_packet(text, limits_, padded);
  if (!p) return p.error();
  if (p->attachment_count == 0) {
    Packet& out = scratch();
    out = std::move(*p);
    return &out;
  }
  // Keep the header: the caller's buffer is gone by the time the attachments arrive. The
  // views are re-pointed at our copy by offset.
  if (!bin_) bin_ = std::make_unique<Binary>();
  Packet& packet = bin_->packet;
  packet = std::move(*p);
  std::string& header = bin_->header;
  header.assign(text);
  const auto rebase = [&](std::string_view v) {
    return v.empty() ? std::string_view{}
                     : std::string_view(header).substr(v.data() - text.data(), v.size());
  };
  packet.nsp = packet.nsp.data() >= text.data() && packet.nsp.data() < text.data() + text.size()
                   ? rebase(packet.nsp)
                   : packet.nsp;
  packet.data = rebase(packet.data);
  packet.args = rebase(packet.args);
  bin_->awaiting = packet.attachment_count;
  return static_cast<const Packet*>(nullptr);
}

Result<const Packet*> Decoder::on_binary(std::span<const uint8_t> bytes) {
  release_spent();
  if (!awaiting_attachments()) return Error{Errc::kProtocol, "unexpected binary message"};
  Binary& b = *bin_;
  b.blob.insert(b.blob.end(), bytes.begin(), bytes.end());
  b.ends.push_back(b.blob.size());
  if (--b.awaiting > 0) return static_cast<const Packet*>(nullptr);
  size_t begin = 0;
  for (size_t end : b.ends) {
    b.spans.emplace_back(b.blob.data() + begin, end - begin);
    begin = end;
  }
  b.packet.attachments = b.spans;
  b.spent = true;
  return &b.packet;
}

}  // namespace sb::socketio
