#include "adapter/classic_codec.h"

#include <algorithm>
#include <random>
#include <span>
#include <unordered_set>

#include "adapter/classic_wire.h"
#include "adapter/json_msgpack.h"
#include "engineio/json_writer.h"

namespace sb::adapter::classic {
namespace {

using detail::kMalformed;
using detail::read_opts;
using detail::read_packet;
using detail::write_event_packet;
using detail::write_opts;
using engineio::append_json_number;
using msgpack::Reader;
using msgpack::Token;
using msgpack::Type;
using msgpack::Writer;

std::vector<std::span<const uint8_t>> spans_of(const std::vector<socketio::Bytes>& bins) {
  std::vector<std::span<const uint8_t>> v;
  v.reserve(bins.size());
  for (const auto& b : bins)
    v.emplace_back(b);
  return v;
}

// Node dedups `except` (`[...new Set(opts.except)]`), keeping the first occurrence's place.
std::vector<std::string_view> dedup(const std::vector<std::string>& v) {
  std::vector<std::string_view> out;
  std::unordered_set<std::string_view> seen;
  for (const std::string& s : v)
    if (seen.insert(s).second) out.push_back(s);
  return out;
}

template <typename Strings>
void write_str_array(Writer& w, const Strings& v) {
  w.array(v.size());
  for (std::string_view s : v)
    w.str(s);
}

// A room name as JS would turn it into a Set key then a string: rooms are strings, but Node
// lets numbers through (`io.to(42)`), which arrive as msgpack/JSON numbers.
Result<std::string> read_room(Reader& r) {
  Result<Token> t = r.next();
  if (!t) return t.error();
  std::string s;
  switch (t->type) {
    case Type::kStr:
      return std::string(t->str());
    case Type::kInt:
    case Type::kUint:
    case Type::kFloat:
      append_json_number(s, t->as_double());
      return s;
    default:
      return kMalformed;
  }
}

Result<void> read_rooms(Reader& r, std::vector<std::string>& out) {
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type == Type::kNil) return {};
  if (t->type != Type::kArray || t->size > kMaxRooms) return kMalformed;
  out.reserve(t->size);
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<std::string> room = read_room(r);
    if (!room) return room.error();
    out.push_back(std::move(*room));
  }
  return {};
}

Result<void> read_flags(Reader& r, WireOpts& o) {
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type == Type::kNil) return {};
  if (t->type != Type::kMap) return kMalformed;
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<Token> k = r.next();
    if (!k || k->type != Type::kStr) return kMalformed;
    if (k->str() == "volatile") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      o.volatile_ = v->type == Type::kBool && v->boolean;
    } else if (k->str() == "timeout") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (v->is_number() && v->as_double() >= 0 && v->as_double() < 4e9)
        o.timeout_ms = static_cast<uint32_t>(v->as_double());
    } else if (auto s = r.skip(); !s) {
      return s.error();
    }
  }
  return {};
}

}  // namespace

// The `{type:2, data, nsp}` EVENT packet, in a broadcast and in a BROADCAST request alike.
// `data` is the event's data array converted from JSON (binary attachments become `bin`).
Result<void> detail::write_event_packet(Writer& w, std::string& out, std::string_view nsp,
                                        const socketio::PacketSource& src) {
  w.map(3);
  w.str("type");
  w.integer(2);
  w.str("data");
  const auto att = spans_of(src.attachments);
  if (auto r = json_to_msgpack(src.data_json, att, out, kMaxDepth); !r) return r;
  w.str("nsp");
  w.str(nsp);
  return {};
}

// `{rooms, except, flags}` exactly as the Node adapter builds rawOpts: flags is the broadcast
// operator's flags object — `{}` for a plain emit, `volatile`/`timeout` when set (`local` is
// never published).
void detail::write_opts(Writer& w, const socketio::BroadcastOptions& o) {
  w.map(3);
  w.str("rooms");
  write_str_array(w, o.rooms);
  w.str("except");
  write_str_array(w, dedup(o.except));
  w.str("flags");
  const size_t n = (o.flags.volatile_ ? 1 : 0) + (o.flags.timeout_ms ? 1 : 0);
  w.map(n);
  if (o.flags.volatile_) {
    w.str("volatile");
    w.boolean(true);
  }
  if (o.flags.timeout_ms) {
    w.str("timeout");
    w.uinteger(*o.flags.timeout_ms);
  }
}

Result<void> detail::read_opts(Reader& r, WireOpts& o) {
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type == Type::kNil) return {};
  if (t->type != Type::kMap) return kMalformed;
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<Token> k = r.next();
    if (!k || k->type != Type::kStr) return kMalformed;
    Result<void> res;
    if (k->str() == "rooms") {
      res = read_rooms(r, o.rooms);
    } else if (k->str() == "except") {
      res = read_rooms(r, o.except);
    } else if (k->str() == "flags") {
      res = read_flags(r, o);
    } else {
      res = r.skip();
    }
    if (!res) return res;
  }
  return {};
}

// `{type:2, data:[…], nsp}` (any key order; `id` and unknown keys ignored).
Result<void> detail::read_packet(Reader& r, std::string& data_json,
                                 std::vector<socketio::Bytes>& att, std::string& nsp) {
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type != Type::kMap) return kMalformed;
  bool has_data = false;
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<Token> k = r.next();
    if (!k || k->type != Type::kStr) return kMalformed;
    if (k->str() == "data") {
      if (has_data) return kMalformed;
      const size_t before = r.offset();
      Result<void> res = msgpack_to_json(r, data_json, att, kMaxDepth);
      if (!res) return res;
      // The data of an EVENT is an array whose first element is the event name.
      if (data_json.empty() || data_json.front() != '[' || r.offset() == before) return kMalformed;
      has_data = true;
    } else if (k->str() == "nsp") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (v->type == Type::kStr) nsp.assign(v->str());
    } else if (k->str() == "type") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (!v->is_number() || v->as_double() != 2) return kMalformed;  // only EVENTs travel
    } else if (auto s = r.skip(); !s) {
      return s.error();
    }
  }
  if (!has_data || data_json.size() < 3) return kMalformed;  // `[]` has no event name
  return {};
}

Channels::Channels(std::string_view key, std::string_view nsp) {
  broadcast = std::string(key) + "#" + std::string(nsp) + "#";
  pattern = broadcast + "*";
  request = std::string(key) + "-request#" + std::string(nsp) + "#";
  response = std::string(key) + "-response#" + std::string(nsp) + "#";
}

std::string Channels::broadcast_channel(const std::vector<std::string>& rooms) const {
  if (rooms.size() != 1) return broadcast;
  return broadcast + rooms.front() + "#";
}

std::string Channels::specific_response(std::string_view uid) const {
  return response + std::string(uid) + "#";
}

std::string random_uid(size_t n) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s(n, 'x');
  for (char& c : s)
    c = kAlphabet[rng() % kAlphabet.size()];
  return s;
}

socketio::BroadcastOptions WireOpts::to_options() const {
  socketio::BroadcastOptions o;
  o.rooms = rooms;
  o.except = except;
  o.flags.volatile_ = volatile_;
  o.flags.timeout_ms = timeout_ms;
  return o;
}

Result<void> encode_broadcast(std::string& out, std::string_view uid, std::string_view nsp,
                              const socketio::PacketSource& src,
                              const socketio::BroadcastOptions& opts) {
  const size_t start = out.size();
  Writer w(out);
  w.array(3);
  w.str(uid);
  if (auto r = write_event_packet(w, out, nsp, src); !r) {
    out.resize(start);
    return r;
  }
  write_opts(w, opts);
  return {};
}

socketio::BroadcastOptions WireOpts::take_options() {
  socketio::BroadcastOptions o;
  o.rooms = std::move(rooms);
  o.except = std::move(except);
  rooms.clear();
  except.clear();
  o.flags.volatile_ = volatile_;
  o.flags.timeout_ms = timeout_ms;
  return o;
}

Result<void> decode_broadcast(std::string_view payload, Broadcast& b) {
  b.uid.clear();
  b.nsp.assign("/");
  b.data_json.clear();
  b.attachments.clear();
  b.opts.rooms.clear();
  b.opts.except.clear();
  b.opts.volatile_ = false;
  b.opts.timeout_ms.reset();
  Reader r(payload, kMaxDepth);
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type != Type::kArray || t->size < 3) return kMalformed;
  Result<Token> uid = r.next();
  if (!uid) return uid.error();
  if (uid->type == Type::kStr) b.uid.assign(uid->str());
  if (auto res = read_packet(r, b.data_json, b.attachments, b.nsp); !res) return res.error();
  return read_opts(r, b.opts);
}

Result<Broadcast> decode_broadcast(std::string_view payload) {
  Broadcast b;
  if (auto r = decode_broadcast(payload, b); !r) return r.error();
  return b;
}

// By hand rather than with a Reader, which allocates its container stack: this runs for every
// message of the namespace, including each of our own.
std::string_view peek_broadcast_uid(std::string_view payload) {
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const size_t n = payload.size();
  size_t pos = 0;
  auto be = [&](size_t bytes, uint64_t& v) {
    if (n - pos < bytes) return false;
    v = 0;
    for (size_t i = 0; i < bytes; ++i)
      v = (v << 8) | p[pos++];
    return true;
  };
  if (n == 0) return {};
  uint64_t count = 0;
  const uint8_t a = p[pos++];
  if (a >= 0x90 && a <= 0x9f) {
    count = a & 0x0f;
  } else if (a == 0xdc || a == 0xdd) {
    if (!be(a == 0xdc ? 2 : 4, count)) return {};
  } else {
    return {};
  }
  if (count < 3 || pos == n) return {};
  uint64_t len = 0;
  const uint8_t h = p[pos++];
  if (h >= 0xa0 && h <= 0xbf) {
    len = h & 0x1f;
  } else if (h == 0xd9 || h == 0xda || h == 0xdb) {
    if (!be(h == 0xd9 ? 1 : h == 0xda ? 2 : 4, len)) return {};
  } else {
    return {};
  }
  if (n - pos < len) return {};
  return payload.substr(pos, len);
}

}  // namespace sb::adapter::classic
