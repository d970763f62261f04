#include "socketio/packet.h"

#include <simdjson.h>

#include <array>
#include <vector>

#include "ws/utf8.h"

namespace sb::socketio {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr Error kErrEmpty{Errc::kProtocol, "empty packet"};
constexpr Error kErrType{Errc::kProtocol, "unknown packet type"};
constexpr Error kErrAttachments{Errc::kProtocol, "illegal attachments"};
constexpr Error kErrTooManyAttachments{Errc::kTooLarge, "too many attachments"};
constexpr Error kErrNsp{Errc::kProtocol, "bad namespace"};
constexpr Error kErrAckTooLarge{Errc::kProtocol, "ack id too large"};
constexpr Error kErrUnexpectedId{Errc::kProtocol, "unexpected ack id"};
constexpr Error kErrMissingId{Errc::kProtocol, "ack without id"};
constexpr Error kErrJson{Errc::kProtocol, "invalid JSON payload"};
constexpr Error kErrDepth{Errc::kTooLarge, "JSON nesting too deep"};
constexpr Error kErrPayload{Errc::kProtocol, "invalid payload"};
constexpr Error kErrReserved{Errc::kProtocol, "reserved event name"};
constexpr Error kErrPlaceholder{Errc::kProtocol, "bad placeholder"};
constexpr Error kErrUnusedAttachment{Errc::kProtocol, "attachment not referenced"};

constexpr std::array<std::string_view, 6> kReserved = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Per-thread parser state. The parser keeps its own padded copy buffer (used when the input is
// not padded) and its tape; both grow to the largest payload seen on this thread.
struct ThreadState {
  simdjson::dom::parser parser;
  size_t depth = 0;
  std::vector<element> work;
  std::vector<uint8_t> used;
  std::string rewritten;
};
thread_local ThreadState t_state;

// simdjson's own depth limit counts a non-empty container one level deeper than an empty one
// (`[1]` needs max_depth 2), so the exact limit is checked by depth_within() and simdjson is
// given one level more as a backstop.
simdjson::error_code set_depth(ThreadState& st, uint32_t max_depth) {
  const size_t want = size_t{max_depth} + 1;
  if (st.depth == want) return simdjson::SUCCESS;
  auto err = st.parser.allocate(std::max<size_t>(st.parser.capacity(), 64), want);
  if (!err) st.depth = want;
  return err;
}

// True if no array/object nesting in `json` goes deeper than `limit`. A flat loop with a
// counter (no recursion, no stack); strings are skipped so brackets inside them do not count.
// Runs before simdjson, so it sees text that may be invalid JSON: it only has to be exact for
// valid JSON and terminate on anything.
bool depth_within(std::string_view json, uint32_t limit) {
  uint32_t depth = 0;
  const size_t n = json.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = json[i];
    if (c == '"') {
      for (++i; i < n && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// True if `t` is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view t) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && is_digit(t[i]))
      ++i;
    return i - start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == t.size();
}

// JSON.parse accepts any number; simdjson refuses integers beyond 64 bits and exponents that
// overflow a double (NUMBER_ERROR). Such payloads are re-checked from a copy in which every
// valid number token of that kind is overwritten, length kept, by `-1.5` and spaces: still a
// number, and not an attachment index (which such a number never is). The decoded Packet's
// views still point at the original text; only validation uses the copy. Returns false if
// nothing was rewritten.
bool rewrite_wide_numbers(std::string& s) {
  bool changed = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
      continue;
    }
    if (c != '-' && !is_digit(c)) continue;
    size_t end = i;
    bool integer = true;
    size_t exp_digits = 0;
    bool in_exp = false;
    while (end < s.size() && (is_digit(s[end]) || s[end] == '-' || s[end] == '+' || s[end] == '.' ||
                              s[end] == 'e' || s[end] == 'E')) {
      if (s[end] == '.' || s[end] == 'e' || s[end] == 'E') integer = false;
      if (s[end] == 'e' || s[end] == 'E') in_exp = true;
      if (in_exp && is_digit(s[end])) ++exp_digits;
      ++end;
    }
    const std::string_view tok(s.data() + i, end - i);
    const bool wide = (integer && tok.size() >= 19) || exp_digits >= 3;
    if (wide && is_json_number(tok)) {
      s.replace(i, tok.size(), "-1.5" + std::string(tok.size() - 4, ' '));
      changed = true;
    }
    i = end - 1;
  }
  return changed;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back()))
    s.remove_suffix(1);
  return s;
}

// `json` is a valid JSON array. Returns the raw text after its first element, or all of its
// members when `skip_first` is false, without brackets. Cheap because validity is known: the
// first element is a string or a number token.
std::string_view raw_args(std::string_view json, bool skip_first, std::string_view* first) {
  std::string_view inner = trim(json);
  inner = trim(inner.substr(1, inner.size() - 2));
  if (!skip_first) return inner;
  size_t i = 0;
  if (inner[0] == '"') {
    for (i = 1; inner[i] != '"'; ++i) {
      if (inner[i] == '\\') ++i;
    }
    ++i;
  } else {
    while (i < inner.size() && inner[i] != ',' && !is_ws(inner[i]))
      ++i;
  }
  *first = inner.substr(0, i);
  std::string_view rest = trim(inner.substr(i));
  return rest.empty() ? rest : trim(rest.substr(1));  // skip the comma
}

// Walks the payload (iteratively: a work list, no recursion) for placeholder objects.
Result<void> check_placeholders(ThreadState& st, element root, uint32_t count) {
  st.work.clear();
  st.used.assign(count, 0);
  st.work.push_back(root);
  while (!st.work.empty()) {
    const element e = st.work.back();
    st.work.pop_back();
    simdjson::dom::array arr;
    if (e.get(arr) == simdjson::SUCCESS) {
      for (element child : arr)
        st.work.push_back(child);
      continue;
    }
    simdjson::dom::object obj;
    if (e.get(obj) != simdjson::SUCCESS) continue;
    bool is_placeholder = false;
    if (obj["_placeholder"].get(is_placeholder) == simdjson::SUCCESS && is_placeholder) {
      element num;
      if (obj["num"].get(num) != simdjson::SUCCESS) return kErrPlaceholder;
      uint64_t n = 0;
      if (num.type() == element_type::DOUBLE) {
        double d = -1;
        if (num.get(d) != simdjson::SUCCESS) return kErrPlaceholder;
        if (!(d >= 0 && d < count && d == static_cast<double>(static_cast<uint64_t>(d)))) {
          return kErrPlaceholder;
        }
        n = static_cast<uint64_t>(d);
      } else if (num.get(n) != simdjson::SUCCESS) {
        return kErrPlaceholder;
      }
      if (n >= count) return kErrPlaceholder;
      st.used[n] = 1;
      continue;
    }
    for (auto field : obj)
      st.work.push_back(field.value);
  }
  for (uint8_t u : st.used) {
    if (!u) return kErrUnusedAttachment;
  }
  return {};
}

Result<void> check_payload(Packet& p, const DecodeLimits& limits, bool padded) {
  ThreadState& st = t_state;
  // Fast path: with no more opening brackets than the limit (brackets in strings included),
  // the nesting cannot exceed it. The exact scan runs only for payloads that might.
  size_t opens = 0;
  for (char c : p.data)
    opens += static_cast<size_t>(c == '[') + static_cast<size_t>(c == '{');
  if (opens > limits.max_depth && !depth_within(p.data, limits.max_depth)) return kErrDepth;
  if (set_depth(st, limits.max_depth)) return Error{Errc::kIo, "JSON parser allocation failed"};
  element root;
  auto err = st.parser.parse(p.data.data(), p.data.size(), !padded).get(root);
  if (err == simdjson::NUMBER_ERROR) {
    st.rewritten.assign(p.data);
    if (rewrite_wide_numbers(st.rewritten)) {
      err = st.parser.parse(st.rewritten.data(), st.rewritten.size(), true).get(root);
    }
  }
  if (err == simdjson::DEPTH_ERROR) return kErrDepth;
  if (err) return kErrJson;
  switch (p.type) {
    case PacketType::kConnect:
      if (root.type() != element_type::OBJECT) return kErrPayload;
      return {};
    case PacketType::kConnectError:
      if (root.type() != element_type::OBJECT && root.type() != element_type::STRING) {
        return kErrPayload;
      }
      return {};
    case PacketType::kDisconnect:
      return kErrPayload;
    case PacketType::kEvent:
    case PacketType::kBinaryEvent: {
      simdjson::dom::array arr;
      if (root.get(arr) != simdjson::SUCCESS) return kErrPayload;
      element first;
      if (arr.at(0).get(first)) return kErrPayload;  // empty array
      const element_type ft = first.type();
      std::string_view first_raw;
      p.args = raw_args(p.data, true, &first_raw);
      if (ft == element_type::STRING) {
        std::string_view name;
        if (first.get(name) != simdjson::SUCCESS) return kErrPayload;
        p.event.assign(name);
        if (is_reserved_event(p.event)) return kErrReserved;
      } else if (ft == element_type::INT64 || ft == element_type::UINT64 ||
                 ft == element_type::DOUBLE) {
        p.event.assign(first_raw);
        p.numeric_event = true;
      } else {
        return kErrPayload;
      }
      break;
    }
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      if (root.type() != element_type::ARRAY) return kErrPayload;
      p.args = raw_args(p.data, false, nullptr);
      break;
  }
  if (p.type == PacketType::kBinaryEvent || p.type == PacketType::kBinaryAck) {
    return check_placeholders(st, root, p.attachment_count);
  }
  return {};
}

}  // namespace

std::string_view packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kEvent:
      return "EVENT";
    case PacketType::kAck:
      return "ACK";
    case PacketType::kConnectError:
      return "CONNECT_ERROR";
    case PacketType::kBinaryEvent:
      return "BINARY_EVENT";
    case PacketType::kBinaryAck:
      return "BINARY_ACK";
  }
  return "UNKNOWN";
}

bool is_reserved_event(std::string_view name) {
  for (auto r : kReserved) {
    if (r == name) return true;
  }
  return false;
}

Result<Packet> decode_packet(std::string_view text, const DecodeLimits& limits, bool padded) {
  if (text.empty()) return kErrEmpty;
  if (text[0] < '0' || text[0] > '6') return kErrType;
  Packet p;
  p.type = static_cast<PacketType>(text[0] - '0');
  size_t i = 1;
  const bool binary = p.type == PacketType::kBinaryEvent || p.type == PacketType::kBinaryAck;
  if (binary) {
    uint64_t n = 0;
    const size_t start = i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (n <= kMaxAckId) n = n * 10 + static_cast<uint64_t>(text[i] - '0');  // saturates
    }
    if (i == start || i == text.size() || text[i] != '-') return kErrAttachments;
    if (n == 0) return kErrAttachments;
    if (n > limits.max_attachments) return kErrTooManyAttachments;
    p.attachment_count = static_cast<uint32_t>(n);
    ++i;
  }
  if (i < text.size() && text[i] == '/') {
    const size_t comma = text.find(',', i);
    const size_t end = comma == std::string_view::npos ? text.size() : comma;
    p.nsp = text.substr(i, end - i);
    if (!ws::is_valid_utf8(p.nsp)) return kErrNsp;
    i = comma == std::string_view::npos ? end : end + 1;
  }
  if (i < text.size() && is_digit(text[i])) {
    uint64_t id = 0;
    while (i < text.size() && is_digit(text[i])) {
      id = id * 10 + static_cast<uint64_t>(text[i++] - '0');
      if (id > kMaxAckId) return kErrAckTooLarge;
    }
    p.id = id;
  }
  const bool takes_id = p.type == PacketType::kEvent || p.type == PacketType::kAck || binary;
  if (p.id && !takes_id) return kErrUnexpectedId;
  if (!p.id && (p.type == PacketType::kAck || p.type == PacketType::kBinaryAck)) {
    return kErrMissingId;
  }
  p.data = text.substr(i);
  if (p.data.empty()) {
    // CONNECT (no auth), DISCONNECT and CONNECT_ERROR may come without a payload.
    const bool optional = p.type == PacketType::kConnect || p.type == PacketType::kDisconnect ||
                          p.type == PacketType::kConnectError;
    if (!optional) return kErrPayload;
    return p;
  }
  auto ok = check_payload(p, limits, padded);
  if (!ok) return ok.error();
  return p;
}

}  // namespace sb::socketio
