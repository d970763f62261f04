#include "redis/push_parser.h"

#include <string_view>

namespace sb::redis {
namespace {

// A cursor over the input; every read fails (false) rather than run past the end.
struct Cursor {
  std::span<const uint8_t> in;
  size_t pos = 0;

  // `<digits>\r\n` after a type byte. At most 10 digits: no element of a push is 10 GB.
  bool number(uint64_t& v) {
    v = 0;
    size_t digits = 0;
    while (pos < in.size() && in[pos] >= '0' && in[pos] <= '9') {
      if (++digits > 10) return false;
      v = v * 10 + (in[pos++] - '0');
    }
    return digits > 0 && crlf();
  }
  bool crlf() {
    if (in.size() - pos < 2 || in[pos] != '\r' || in[pos + 1] != '\n') return false;
    pos += 2;
    return true;
  }
  bool byte(uint8_t b) {
    if (pos >= in.size() || in[pos] != b) return false;
    ++pos;
    return true;
  }
  // `$<len>\r\n<bytes>\r\n` (not the nil `$-1`: no push carries one).
  bool bulk(std::string_view& out) {
    uint64_t len = 0;
    if (!byte('$') || !number(len) || in.size() - pos < len) return false;
    out = std::string_view(reinterpret_cast<const char*>(in.data() + pos), len);
    pos += len;
    return crlf();
  }
};

}  // namespace

size_t parse_push(std::span<const uint8_t> in, PubSubMessage& out) {
  Cursor c{in};
  uint64_t n = 0;
  std::string_view kind;
  if (!c.byte('*') || !c.number(n) || (n != 3 && n != 4) || !c.bulk(kind)) return 0;
  if (n == 4) {
    if (kind != "pmessage") return 0;
    out.kind = PubSubMessage::Kind::kPMessage;
    if (!c.bulk(out.pattern)) return 0;
  } else if (kind == "message" || kind == "smessage") {
    out.kind = kind[0] == 's' ? PubSubMessage::Kind::kSMessage : PubSubMessage::Kind::kMessage;
    out.pattern = {};
  } else {
    return 0;
  }
  if (!c.bulk(out.channel) || !c.bulk(out.payload)) return 0;
  return c.pos;
}

}  // namespace sb::redis
