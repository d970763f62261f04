#include "adapter/sharded_codec.h"

#include <simdjson.h>

#include <random>
#include <span>

#include "adapter/json_msgpack.h"
#include "adapter/msgpack.h"
#include "engineio/json_writer.h"

namespace sb::adapter::sharded {
namespace {

using engineio::JsonWriter;

constexpr Error kMalformed{Errc::kProtocol, "malformed sharded adapter message"};

void str_array(JsonWriter& w, const std::vector<std::string>& v) {
  w.begin_array();
  for (const std::string& s : v)
    w.string(s);
  w.end_array();
}

// encodeOptions(): `{rooms, except, flags}`, flags being the operator's flags object.
void opts_json(JsonWriter& w, const socketio::BroadcastOptions& o) {
  w.key("opts").begin_object();
  w.key("rooms");
  str_array(w, o.rooms);
  w.key("except");
  str_array(w, o.except);
  w.key("flags").begin_object();
  if (o.flags.volatile_) w.key("volatile").boolean(true);
  if (o.flags.timeout_ms) w.key("timeout").number(uint64_t{*o.flags.timeout_ms});
  w.end_object();
  w.end_object();
}

// publish() adds uid and nsp after type and data: the key order Node writes.
void tail(JsonWriter& w, std::string_view uid, std::string_view nsp) {
  w.key("uid").string(uid).key("nsp").string(nsp).end_object();
}

bool room_of(simdjson::dom::element e, std::string& out) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    out.assign(s);
    return true;
  }
  double d = 0;
  if (e.get(d) == simdjson::SUCCESS) {
    engineio::append_json_number(out, d);
    return true;
  }
  return false;
}

bool rooms_of(simdjson::dom::element e, std::vector<std::string>& out) {
  simdjson::dom::array a;
  if (e.get(a) != simdjson::SUCCESS || a.size() > classic::kMaxRooms) return false;
  for (simdjson::dom::element x : a) {
    std::string r;
    if (!room_of(x, r)) return false;
    out.push_back(std::move(r));
  }
  return true;
}

bool opts_of(simdjson::dom::element e, classic::WireOpts& o) {
  simdjson::dom::object obj;
  if (e.get(obj) != simdjson::SUCCESS) return false;
  simdjson::dom::element x;
  if (obj["rooms"].get(x) == simdjson::SUCCESS && !rooms_of(x, o.rooms)) return false;
  if (obj["except"].get(x) == simdjson::SUCCESS && !rooms_of(x, o.except)) return false;
  simdjson::dom::object flags;
  if (obj["flags"].get(flags) == simdjson::SUCCESS) {
    bool v = false;
    if (flags["volatile"].get(v) == simdjson::SUCCESS) o.volatile_ = v;
    double t = 0;
    if (flags["timeout"].get(t) == simdjson::SUCCESS && t >= 0 && t < 4e9)
      o.timeout_ms = static_cast<uint32_t>(t);
  }
  return true;
}

Result<Message> decode_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS)
    return kMalformed;
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return kMalformed;
  Message m;
  int64_t type = 0;
  if (obj["type"].get(type) != simdjson::SUCCESS || type < 0 || type > 255) return kMalformed;
  m.type = static_cast<MessageType>(type);
  std::string_view s;
  if (obj["uid"].get(s) == simdjson::SUCCESS) m.uid.assign(s);
  if (obj["nsp"].get(s) == simdjson::SUCCESS) m.nsp.assign(s);
  simdjson::dom::object data;
  if (obj["data"].get(data) != simdjson::SUCCESS) return m;  // heartbeats etc.: no data
  if (data["requestId"].get(s) == simdjson::SUCCESS) m.request_id.assign(s);
  simdjson::dom::element x;
  if (data["opts"].get(x) == simdjson::SUCCESS && !opts_of(x, m.opts)) return kMalformed;
  if (data["rooms"].get(x) == simdjson::SUCCESS && !rooms_of(x, m.rooms)) return kMalformed;
  bool b = false;
  if (data["close"].get(b) == simdjson::SUCCESS) m.close = b;
  uint64_t n = 0;
  if (data["clientCount"].get(n) == simdjson::SUCCESS) m.client_count = n;
  if (data["packet"].get(x) == simdjson::SUCCESS) {
    if (m.type == MessageType::kBroadcast) {
      simdjson::dom::element d;
      simdjson::dom::array a;
      if (x["data"].get(d) != simdjson::SUCCESS || d.get(a) != simdjson::SUCCESS || a.size() == 0 ||
          !(*a.begin()).is_string())
        return kMalformed;
      m.data_json = simdjson::minify(d);
    } else {
      m.data_json = simdjson::minify(x);
    }
  }
  if (m.type == MessageType::kBroadcast && m.data_json.empty()) return kMalformed;
  if (data["sockets"].get(x) == simdjson::SUCCESS) {
    simdjson::dom::array a;
    if (x.get(a) != simdjson::SUCCESS) return kMalformed;
    for (simdjson::dom::element e : a) {
      simdjson::dom::object so;
      if (e.get(so) != simdjson::SUCCESS || so["id"].get(s) != simdjson::SUCCESS) return kMalformed;
      classic::FetchedSocket f;
      f.id.assign(s);
      simdjson::dom::element y;
      if (so["rooms"].get(y) == simdjson::SUCCESS && !rooms_of(y, f.rooms)) return kMalformed;
      if (so["handshake"].get(y) == simdjson::SUCCESS) f.handshake_json = simdjson::minify(y);
      if (so["data"].get(y) == simdjson::SUCCESS) f.data_json = simdjson::minify(y);
      m.sockets.push_back(std::move(f));
    }
  }
  return m;
}

std::vector<std::span<const uint8_t>> spans_of(const std::vector<socketio::Bytes>& bins) {
  std::vector<std::span<const uint8_t>> v;
  v.reserve(bins.size());
  for (const auto& b : bins)
    v.emplace_back(b);
  return v;
}

}  // namespace

std::string random_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t v = rng();
  std::string s(16, '0');
  for (size_t i = 0; i < 16; ++i)
    s[i] = kHex[(v >> (60 - 4 * i)) & 15];
  return s;
}

// A MessagePack message is transcoded to JSON (binary → placeholders + attachments) and read by
// the JSON path: one decoder, and what a broadcast needs (placeholders) comes out directly.
Result<Message> decode(std::string_view payload) {
  if (payload.empty()) return kMalformed;
  if (payload.front() == '{') return decode_json(payload);
  msgpack::Reader r(payload, classic::kMaxDepth);
  std::string json;
  std::vector<std::vector<uint8_t>> att;
  if (auto res = msgpack_to_json(r, json, att, classic::kMaxDepth); !res) return res.error();
  if (json.empty() || json.front() != '{') return kMalformed;
  Result<Message> m = decode_json(json);
  if (m) m->attachments = std::move(att);
  return m;
}

Result<void> encode_broadcast(std::string& out, std::string_view uid, std::string_view nsp,
                              const socketio::PacketSource& src,
                              const socketio::BroadcastOptions& opts, std::string_view request_id) {
  std::string json;
  JsonWriter w(json);
  w.begin_object().key("type").number(static_cast<int>(MessageType::kBroadcast));
  w.key("data").begin_object();
  w.key("packet").begin_object().key("type").number(2).key("data").raw(src.data_json).end_object();
  if (!request_id.empty()) w.key("requestId").string(request_id);
  opts_json(w, opts);
  w.end_object();
  tail(w, uid, nsp);
  if (src.attachments.empty()) {
    out += json;
    return {};
  }
  // notepack.encode(message) when the data holds binary (the sharded adapter's encode()).
  const auto att = spans_of(src.attachments);
  return json_to_msgpack(json, att, out, classic::kMaxDepth);
}

void encode_sockets(std::string& out, MessageType type, std::string_view uid, std::string_view nsp,
                    const socketio::BroadcastOptions& opts, const std::vector<std::string>& rooms,
                    bool close) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(type)).key("data").begin_object();
  opts_json(w, opts);
  if (type == MessageType::kDisconnectSockets) {
    w.key("close").boolean(close);
  } else {
    w.key("rooms");
    str_array(w, rooms);
  }
  w.end_object();
  tail(w, uid, nsp);
}

void encode_fetch(std::string& out, std::string_view uid, std::string_view nsp,
                  const socketio::BroadcastOptions& opts, std::string_view request_id) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(MessageType::kFetchSockets));
  w.key("data").begin_object();
  opts_json(w, opts);
  w.key("requestId").string(request_id).end_object();
  tail(w, uid, nsp);
}

void encode_fetch_response(std::string& out, std::string_view uid, std::string_view nsp,
                           std::string_view request_id, std::string_view sockets_json) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(MessageType::kFetchSocketsResponse));
  w.key("data").begin_object().key("requestId").string(request_id);
  std::string arr = "[";
  arr += sockets_json;
  arr += "]";
  w.key("sockets").raw(arr).end_object();
  tail(w, uid, nsp);
}

void encode_server_side_emit(std::string& out, std::string_view uid, std::string_view nsp,
                             std::string_view request_id, std::string_view data_json) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(MessageType::kServerSideEmit));
  w.key("data").begin_object();
  if (!request_id.empty()) w.key("requestId").string(request_id);
  w.key("packet").raw(data_json).end_object();
  tail(w, uid, nsp);
}

void encode_answer(std::string& out, MessageType type, std::string_view uid, std::string_view nsp,
                   std::string_view request_id, std::string_view arg_json) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(type));
  w.key("data").begin_object().key("requestId").string(request_id);
  if (!arg_json.empty()) w.key("packet").raw(arg_json);  // undefined: omitted, as JSON.stringify
  w.end_object();
  tail(w, uid, nsp);
}

void encode_client_count(std::string& out, std::string_view uid, std::string_view nsp,
                         std::string_view request_id, uint64_t count) {
  JsonWriter w(out);
  w.begin_object().key("type").number(static_cast<int>(MessageType::kBroadcastClientCount));
  w.key("data").begin_object().key("requestId").string(request_id);
  w.key("clientCount").number(count).end_object();
  tail(w, uid, nsp);
}

}  // namespace sb::adapter::sharded
