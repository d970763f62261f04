// Fuzzes the Socket.IO decoder. Input layout: [flags][messages...], messages separated by 0x1e
// as in a polling payload; a message starting with `b` is binary (its remaining bytes), any
// other is text. Checks: decoding in place from a padded buffer gives the same result as the
// copying path; every decoded EVENT re-encodes (encode_event) to a packet that decodes to the
// same namespace, id, name and raw arguments; views stay inside their buffers.
// flags bit0-1: max_depth 64 / 3 / 1 / 200; bit2: max_attachments 2 instead of 10.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/decoder.h"
#include "socketio/encoder.h"

namespace {

using namespace sb::socketio;

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || v == "/" ||
         (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_reencode(const Packet& p, const DecodeLimits& limits) {
  if (p.type != PacketType::kEvent || p.numeric_event) return;
  std::string out;
  encode_event(out, p.nsp, p.event, p.args, p.id);
  auto q = decode_packet(out, limits);
  if (!q) abort();
  if (q->nsp != p.nsp || q->id != p.id || q->event != p.event || q->args != p.args) abort();
}

void check_text(std::string_view text, const DecodeLimits& limits) {
  auto a = decode_packet(text, limits);
  std::vector<char> padded(text.size() + 64, '\0');
  if (!text.empty()) std::memcpy(padded.data(), text.data(), text.size());
  auto b = decode_packet(std::string_view(padded.data(), text.size()), limits, true);
  if (a.ok() != b.ok()) abort();
  if (!a) {
    if (a.error().reason != b.error().reason) abort();
    return;
  }
  if (a->event != b->event || a->args.size() != b->args.size() || a->id != b->id) abort();
  if (!inside(a->nsp, text) || !inside(a->data, text) || !inside(a->args, text)) abort();
  if (a->attachment_count > limits.max_attachments) abort();
  check_reencode(*a, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr uint32_t kDepths[] = {64, 3, 1, 200};
  DecodeLimits limits;
  limits.max_depth = kDepths[data[0] & 3];
  limits.max_attachments = (data[0] & 4) ? 2 : 10;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  Decoder dec(limits);
  bool failed = false;
  while (!failed) {
    const size_t sep = rest.find('\x1e');
    const std::string_view msg = rest.substr(0, sep);
    if (!msg.empty() && msg[0] == 'b') {
      const auto* b = reinterpret_cast<const uint8_t*>(msg.data() + 1);
      auto r = dec.on_binary({b, msg.size() - 1});
      failed = !r;
      if (r && *r && (*r)->attachments.size() != (*r)->attachment_count) abort();
    } else {
      check_text(msg, limits);
      auto r = dec.on_text(msg);
      failed = !r;
      if (r && *r) check_reencode(**r, limits);
    }
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 1);
  }
  return 0;
}
