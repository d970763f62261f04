#include "socketio/decoder.h"

namespace sb::socketio {

namespace {
// A completed packet's buffers are kept for reuse unless they grew beyond this: an idle
// connection should not hold the memory of its largest binary message.
constexpr size_t kKeepCapacity = 16 * 1024;
}  // namespace

void Decoder::release_spent() {
  if (!spent_) return;
  spent_ = false;
  packet_ = Packet{};
  spans_.clear();
  ends_.clear();
  blob_.clear();
  header_.clear();
  if (blob_.capacity() > kKeepCapacity) blob_ = {};
  if (header_.capacity() > kKeepCapacity) header_ = {};
}

void Decoder::reset() {
  spent_ = true;
  awaiting_ = 0;
  release_spent();
}

Result<const Packet*> Decoder::on_text(std::string_view text, bool padded) {
  release_spent();
  if (awaiting_ > 0) {
    reset();
    return Error{Errc::kProtocol, "text message while awaiting attachments"};
  }
  auto p = decode_packet(text, limits_, padded);
  if (!p) return p.error();
  packet_ = std::move(*p);
  if (packet_.attachment_count == 0) return &packet_;
  // Keep the header: the caller's buffer is gone by the time the attachments arrive. The
  // views are re-pointed at our copy by offset.
  header_.assign(text);
  const auto rebase = [&](std::string_view v) {
    return v.empty() ? std::string_view{}
                     : std::string_view(header_).substr(v.data() - text.data(), v.size());
  };
  packet_.nsp = packet_.nsp.data() >= text.data() && packet_.nsp.data() < text.data() + text.size()
                    ? rebase(packet_.nsp)
                    : packet_.nsp;
  packet_.data = rebase(packet_.data);
  packet_.args = rebase(packet_.args);
  awaiting_ = packet_.attachment_count;
  return static_cast<const Packet*>(nullptr);
}

Result<const Packet*> Decoder::on_binary(std::span<const uint8_t> bytes) {
  release_spent();
  if (awaiting_ == 0) return Error{Errc::kProtocol, "unexpected binary message"};
  blob_.insert(blob_.end(), bytes.begin(), bytes.end());
  ends_.push_back(blob_.size());
  if (--awaiting_ > 0) return static_cast<const Packet*>(nullptr);
  size_t begin = 0;
  for (size_t end : ends_) {
    spans_.emplace_back(blob_.data() + begin, end - begin);
    begin = end;
  }
  packet_.attachments = spans_;
  spent_ = true;
  return &packet_;
}

}  // namespace sb::socketio
