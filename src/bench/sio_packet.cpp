#include "bench/sio_packet.h"

#include <cassert>

namespace sb::bench {
namespace {

constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;  // what a JavaScript peer can count to

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void skip_ws(std::string_view s, size_t& i) {
  while (i < s.size() && is_ws(s[i]))
    ++i;
}

// At s[i] == '"': returns the index just past the closing quote, or npos.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped character, whatever it is (\uXXXX: the digits are plain)
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Skips one JSON value starting at s[i] (after whitespace). Strings and nesting are followed;
// scalars run to the next ',', ']' or '}' at depth 0. Returns the index past it, or npos.
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skip_string(s, i);
  int depth = 0;
  // Bounded by the input: every iteration advances i.
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      i = skip_string(s, i);
      if (i == std::string_view::npos) return i;
      if (depth == 0) return i;
      continue;
    }
    if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) return i;  // end of the enclosing array: a scalar ends here
      if (--depth == 0) return i + 1;
    } else if (c == ',' && depth == 0) {
      return i;
    }
    ++i;
  }
  return depth == 0 ? i : std::string_view::npos;
}

// Reads the array element at s[i] (after '[' or ','): its view (string contents, or raw JSON).
// Returns false when malformed; `i` is left after the element.
bool read_element(std::string_view s, size_t& i, std::string_view& out, bool& is_string) {
  skip_ws(s, i);
  const size_t start = i;
  const size_t end = skip_value(s, i);
  if (end == std::string_view::npos || end == start) return false;
  is_string = s[start] == '"';
  if (is_string) {
    out = s.substr(start + 1, end - start - 2);
  } else {
    size_t e = end;
    while (e > start && is_ws(s[e - 1]))
      --e;
    out = s.substr(start, e - start);
  }
  i = end;
  skip_ws(s, i);
  return i < s.size() && (s[i] == ',' || s[i] == ']');
}

// At s[i] == ']': true if only whitespace follows.
bool closes_array(std::string_view s, size_t i) {
  ++i;
  skip_ws(s, i);
  return i == s.size();
}

// Parses the arguments array of an event (name first) or an ack.
bool parse_args(std::string_view json, SioFrame& f, bool named) {
  size_t i = 0;
  skip_ws(json, i);
  if (i >= json.size() || json[i] != '[') return false;
  ++i;
  skip_ws(json, i);
  if (i < json.size() && json[i] == ']') return !named && closes_array(json, i);  // ack, no args
  if (named) {
    bool is_string = false;
    if (!read_element(json, i, f.event, is_string) || !is_string) return false;
    if (json[i] == ']') return closes_array(json, i);
    ++i;  // ','
  }
  if (!read_element(json, i, f.first_arg, f.first_arg_is_string)) return false;
  f.has_first_arg = true;
  // The rest is checked for shape only, so a truncated or garbled packet is never taken.
  while (json[i] == ',') {
    ++i;
    std::string_view ignored;
    bool ignored_is_string = false;
    if (!read_element(json, i, ignored, ignored_is_string)) return false;
  }
  return closes_array(json, i);
}

}  // namespace

SioFrame parse_server_frame(std::string_view text) {
  SioFrame f;
  if (text.empty()) return f;
  switch (text[0]) {
    case '0':
      f.kind = SioKind::kEioOpen;
      f.payload = text.substr(1);
      return f;
    case '1':
      f.kind = SioKind::kEioClose;
      return f;
    case '2':
      f.kind = SioKind::kEioPing;
      f.ping_data = text.substr(1);
      return f;
    case '3':
      f.kind = SioKind::kEioPong;
      return f;
    case '6':
      f.kind = SioKind::kEioNoop;
      return f;
    case '4':
      break;
    default:
      return f;
  }
  if (text.size() < 2) return f;
  const char type = text[1];
  size_t i = 2;
  if (type == '5' || type == '6') {
    f.kind = SioKind::kBinary;
    return f;
  }
  if (i < text.size() && text[i] == '/') {
    const size_t comma = text.find(',', i);
    if (comma == std::string_view::npos) {
      // "41/chat" (disconnect) may end right after the namespace.
      f.nsp = text.substr(i);
      i = text.size();
    } else {
      f.nsp = text.substr(i, comma - i);
      i = comma + 1;
    }
  }
  uint64_t id = 0;
  bool has_id = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    id = id * 10 + static_cast<uint64_t>(text[i] - '0');
    if (id > kMaxAckId) return f;
    has_id = true;
    ++i;
  }
  if (has_id) f.ack_id = id;
  f.payload = text.substr(i);
  switch (type) {
    case '0':
      f.kind = has_id ? SioKind::kMalformed : SioKind::kConnect;
      break;
    case '1':
      f.kind = has_id ? SioKind::kMalformed : SioKind::kDisconnect;
      break;
    case '2':
      f.kind = parse_args(f.payload, f, true) ? SioKind::kEvent : SioKind::kMalformed;
      break;
    case '3':
      f.kind = has_id && parse_args(f.payload, f, false) ? SioKind::kAck : SioKind::kMalformed;
      break;
    case '4':
      f.kind = has_id ? SioKind::kMalformed : SioKind::kConnectError;
      break;
    default:
      break;
  }
  return f;
}

bool needs_json_escape(std::string_view s) {
  for (const char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void append_emit(std::string& out, std::string_view nsp, std::string_view name,
                 std::optional<uint64_t> ack_id, std::string_view data, std::string_view extra) {
  assert(!needs_json_escape(name) && !needs_json_escape(data) && !needs_json_escape(extra));
  out += "42";
  if (!nsp.empty() && nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (ack_id) out += std::to_string(*ack_id);
  out += "[\"";
  out += name;
  out += "\",\"";
  out += data;
  out += '"';
  if (!extra.empty()) {
    out += ",\"";
    out += extra;
    out += '"';
  }
  out += ']';
}

std::string socketio_path(std::string_view path, std::string_view extra_query,
                          std::string_view transport) {
  std::string p;
  if (path.empty() || path == "/") {
    p = "/socket.io/?EIO=4&transport=";
    p += transport;
  } else {
    p = std::string(path);
    if (p.find("EIO=") == std::string::npos) {
      if (p.find('?') == std::string::npos) {
        if (p.back() != '/') p += '/';
        p += '?';
      } else if (p.back() != '?' && p.back() != '&') {
        p += '&';
      }
      p += "EIO=4&transport=";
      p += transport;
    }
  }
  if (!extra_query.empty()) {
    p += '&';
    p += extra_query;
  }
  return p;
}

}  // namespace sb::bench
