// The inter-node requests and responses of classic_codec.h: JSON (simdjson to read, our
// writer to write), except BROADCAST (7) and BROADCAST_ACK (9), which are MessagePack.
#include <simdjson.h>

#include "adapter/classic_codec.h"
#include "adapter/classic_wire.h"
#include "adapter/json_msgpack.h"
#include "engineio/json_writer.h"

namespace sb::adapter::classic {
namespace {

using detail::kMalformed;
using detail::read_opts;
using detail::read_packet;
using engineio::append_json_number;
using engineio::append_json_string;
using msgpack::Reader;
using msgpack::Token;
using msgpack::Type;
using msgpack::Writer;

// --- JSON side (simdjson DOM, one parser per thread) ---

simdjson::dom::parser& json_parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

bool json_room(simdjson::dom::element e, std::string& out) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    out.assign(s);
    return true;
  }
  double d = 0;
  int64_t i = 0;
  uint64_t u = 0;
  if (e.get(i) == simdjson::SUCCESS) {
    append_json_number(out, i);
  } else if (e.get(u) == simdjson::SUCCESS) {
    append_json_number(out, u);
  } else if (e.get(d) == simdjson::SUCCESS) {
    append_json_number(out, d);
  } else {
    return false;
  }
  return true;
}

bool json_rooms(simdjson::dom::element e, std::vector<std::string>& out) {
  simdjson::dom::array a;
  if (e.get(a) != simdjson::SUCCESS || a.size() > kMaxRooms) return false;
  for (simdjson::dom::element x : a) {
    std::string room;
    if (!json_room(x, room)) return false;
    out.push_back(std::move(room));
  }
  return true;
}

bool json_opts(simdjson::dom::element e, WireOpts& o) {
  simdjson::dom::object obj;
  if (e.get(obj) != simdjson::SUCCESS) return false;
  simdjson::dom::element x;
  if (obj["rooms"].get(x) == simdjson::SUCCESS && !json_rooms(x, o.rooms)) return false;
  if (obj["except"].get(x) == simdjson::SUCCESS && !json_rooms(x, o.except)) return false;
  return true;
}

Result<Request> decode_json_request(std::string_view payload) {
  simdjson::dom::element root;
  if (json_parser().parse(payload.data(), payload.size(), true).get(root) != simdjson::SUCCESS)
    return kMalformed;
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return kMalformed;
  Request q;
  int64_t type = -1;
  // Unknown types (a newer peer, our own hello) are passed on for the caller to ignore.
  if (obj["type"].get(type) != simdjson::SUCCESS || type < 0 || type > 255) return kMalformed;
  q.type = static_cast<RequestType>(type);
  std::string_view s;
  if (obj["uid"].get(s) == simdjson::SUCCESS) q.uid.assign(s);
  if (obj["requestId"].get(s) == simdjson::SUCCESS) q.request_id.assign(s);
  simdjson::dom::element x;
  if (obj["opts"].get(x) == simdjson::SUCCESS) {
    if (!json_opts(x, q.opts)) return kMalformed;
    q.has_opts = true;
  }
  if (obj["rooms"].get(x) == simdjson::SUCCESS && !json_rooms(x, q.rooms)) return kMalformed;
  bool b = false;
  if (obj["close"].get(b) == simdjson::SUCCESS) q.close = b;
  if (obj["sid"].get(s) == simdjson::SUCCESS) q.sid.assign(s);
  if (obj["room"].get(x) == simdjson::SUCCESS) json_room(x, q.room);
  if (obj["data"].get(x) == simdjson::SUCCESS) {
    simdjson::dom::array a;
    if (x.get(a) != simdjson::SUCCESS || a.size() == 0) return kMalformed;
    std::string_view ev;
    if ((*a.begin()).get(ev) != simdjson::SUCCESS) return kMalformed;
    q.data_json = simdjson::minify(x);
  }
  if (q.type == RequestType::kServerSideEmit && q.data_json.empty()) return kMalformed;
  return q;
}

Result<Request> decode_msgpack_request(std::string_view payload) {
  Reader r(payload, kMaxDepth);
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type != Type::kMap) return kMalformed;
  Request q;
  bool has_type = false;
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<Token> k = r.next();
    if (!k || k->type != Type::kStr) return kMalformed;
    const std::string_view key = k->str();
    Result<void> res;
    if (key == "uid" || key == "requestId") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (v->type != Type::kStr) return kMalformed;
      (key == "uid" ? q.uid : q.request_id).assign(v->str());
    } else if (key == "type") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (!v->is_number() || v->as_double() < 0 || v->as_double() > 9) return kMalformed;
      q.type = static_cast<RequestType>(static_cast<int>(v->as_double()));
      has_type = true;
    } else if (key == "packet") {
      res = read_packet(r, q.data_json, q.attachments, q.packet_nsp);
    } else if (key == "opts") {
      res = read_opts(r, q.opts);
      q.has_opts = true;
    } else {
      res = r.skip();
    }
    if (!res) return res.error();
  }
  if (!has_type) return kMalformed;
  if (q.type == RequestType::kBroadcast && q.data_json.empty()) return kMalformed;
  return q;
}

Result<Response> decode_json_response(std::string_view payload) {
  simdjson::dom::element root;
  if (json_parser().parse(payload.data(), payload.size(), true).get(root) != simdjson::SUCCESS)
    return kMalformed;
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return kMalformed;
  Response p;
  std::string_view s;
  if (obj["requestId"].get(s) != simdjson::SUCCESS) return kMalformed;
  p.request_id.assign(s);
  int64_t type = -1;
  if (obj["type"].get(type) == simdjson::SUCCESS && type >= 0 && type <= 9)
    p.type = static_cast<RequestType>(type);
  simdjson::dom::element x;
  if (obj["sockets"].get(x) == simdjson::SUCCESS) {
    simdjson::dom::array a;
    if (x.get(a) != simdjson::SUCCESS) return kMalformed;
    p.has_sockets = true;
    for (simdjson::dom::element e : a) {
      FetchedSocket f;
      if (e.get(s) == simdjson::SUCCESS) {  // SOCKETS (0): ids only
        f.id.assign(s);
      } else {
        simdjson::dom::object so;
        if (e.get(so) != simdjson::SUCCESS || so["id"].get(s) != simdjson::SUCCESS)
          return kMalformed;
        f.id.assign(s);
        simdjson::dom::element y;
        if (so["rooms"].get(y) == simdjson::SUCCESS && !json_rooms(y, f.rooms)) return kMalformed;
        if (so["handshake"].get(y) == simdjson::SUCCESS) f.handshake_json = simdjson::minify(y);
        if (so["data"].get(y) == simdjson::SUCCESS) f.data_json = simdjson::minify(y);
      }
      p.sockets.push_back(std::move(f));
    }
  }
  if (obj["rooms"].get(x) == simdjson::SUCCESS) {
    if (!json_rooms(x, p.rooms)) return kMalformed;
    p.has_rooms = true;
  }
  if (obj["data"].get(x) == simdjson::SUCCESS) p.data_json = simdjson::minify(x);
  uint64_t n = 0;
  if (obj["clientCount"].get(n) == simdjson::SUCCESS) p.client_count = n;
  return p;
}

Result<Response> decode_msgpack_response(std::string_view payload) {
  Reader r(payload, kMaxDepth);
  Result<Token> t = r.next();
  if (!t) return t.error();
  if (t->type != Type::kMap) return kMalformed;
  Response p;
  bool has_id = false;
  for (uint32_t i = 0; i < t->size; ++i) {
    Result<Token> k = r.next();
    if (!k || k->type != Type::kStr) return kMalformed;
    const std::string_view key = k->str();
    Result<void> res;
    if (key == "requestId") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (v->type != Type::kStr) return kMalformed;
      p.request_id.assign(v->str());
      has_id = true;
    } else if (key == "type") {
      Result<Token> v = r.next();
      if (!v) return v.error();
      if (v->is_number() && v->as_double() >= 0 && v->as_double() <= 9)
        p.type = static_cast<RequestType>(static_cast<int>(v->as_double()));
    } else if (key == "packet") {
      // Binary inside an ack answer keeps its placeholders; the bytes are not forwarded (the
      // callback takes JSON).
      std::vector<std::vector<uint8_t>> att;
      res = msgpack_to_json(r, p.data_json, att, kMaxDepth);
    } else {
      res = r.skip();
    }
    if (!res) return res.error();
  }
  if (!has_id) return kMalformed;
  return p;
}

void json_str_array(engineio::JsonWriter& w, const std::vector<std::string>& v) {
  w.begin_array();
  for (std::string_view s : v)
    w.string(s);
  w.end_array();
}

void json_opts(engineio::JsonWriter& w, const socketio::BroadcastOptions& o) {
  w.key("opts").begin_object();
  w.key("rooms");
  json_str_array(w, o.rooms);
  w.key("except");
  json_str_array(w, o.except);
  w.end_object();
}

// Every JSON request starts `{"uid":…,["requestId":…,]"type":N` (the Node adapter's key order;
// requests that need no answer carry no requestId).
engineio::JsonWriter& json_request_head(engineio::JsonWriter& w, std::string_view uid,
                                        std::string_view request_id, RequestType type) {
  w.begin_object().key("uid").string(uid);
  if (!request_id.empty()) w.key("requestId").string(request_id);
  return w.key("type").number(static_cast<int>(type));
}

// Responses start `{"requestId":…` or, for the typed ones (6, 8), `{"type":N,"requestId":…`.
engineio::JsonWriter& json_response_head(engineio::JsonWriter& w, std::string_view request_id,
                                         std::optional<RequestType> type = std::nullopt) {
  w.begin_object();
  if (type) w.key("type").number(static_cast<int>(*type));
  return w.key("requestId").string(request_id);
}

}  // namespace

Result<Request> decode_request(std::string_view payload) {
  if (payload.empty()) return kMalformed;
  if (payload.front() == '{') return decode_json_request(payload);
  return decode_msgpack_request(payload);
}

Result<Response> decode_response(std::string_view payload) {
  if (payload.empty()) return kMalformed;
  if (payload.front() == '{') return decode_json_response(payload);
  return decode_msgpack_response(payload);
}

void encode_hello(std::string& out, std::string_view uid) {
  engineio::JsonWriter w(out);
  json_request_head(w, uid, {}, RequestType::kHello).end_object();
}

void encode_all_rooms_request(std::string& out, std::string_view uid, std::string_view request_id) {
  engineio::JsonWriter w(out);
  json_request_head(w, uid, request_id, RequestType::kAllRooms).end_object();
}

void encode_fetch_request(std::string& out, std::string_view uid, std::string_view request_id,
                          const socketio::BroadcastOptions& opts) {
  engineio::JsonWriter w(out);
  json_request_head(w, uid, request_id, RequestType::kRemoteFetch);
  json_opts(w, opts);
  w.end_object();
}

void encode_sockets_request(std::string& out, RequestType type, std::string_view uid,
                            const socketio::BroadcastOptions& opts,
                            const std::vector<std::string>& rooms, bool close) {
  engineio::JsonWriter w(out);
  json_request_head(w, uid, {}, type);
  json_opts(w, opts);
  if (type == RequestType::kRemoteDisconnect) {
    w.key("close").boolean(close);
  } else {
    w.key("rooms");
    json_str_array(w, rooms);
  }
  w.end_object();
}

void encode_server_side_emit(std::string& out, std::string_view uid, std::string_view request_id,
                             std::string_view data_json) {
  engineio::JsonWriter w(out);
  json_request_head(w, uid, request_id, RequestType::kServerSideEmit);
  w.key("data").raw(data_json).end_object();
}

Result<void> encode_broadcast_request(std::string& out, std::string_view uid,
                                      std::string_view request_id, std::string_view nsp,
                                      const socketio::PacketSource& src,
                                      const socketio::BroadcastOptions& opts) {
  const size_t start = out.size();
  Writer w(out);
  w.map(5);
  w.str("uid");
  w.str(uid);
  w.str("requestId");
  w.str(request_id);
  w.str("type");
  w.integer(static_cast<int>(RequestType::kBroadcast));
  w.str("packet");
  if (auto r = detail::write_event_packet(w, out, nsp, src); !r) {
    out.resize(start);
    return r;
  }
  w.str("opts");
  detail::write_opts(w, opts);
  return {};
}

void encode_sockets_response(std::string& out, std::string_view request_id,
                             const std::vector<std::string>& ids) {
  engineio::JsonWriter w(out);
  json_response_head(w, request_id).key("sockets");
  json_str_array(w, ids);
  w.end_object();
}

void encode_all_rooms_response(std::string& out, std::string_view request_id,
                               const std::vector<std::string>& rooms) {
  engineio::JsonWriter w(out);
  json_response_head(w, request_id).key("rooms");
  json_str_array(w, rooms);
  w.end_object();
}

void encode_fetch_response(std::string& out, std::string_view request_id,
                           std::string_view sockets_json) {
  out.append("{\"requestId\":");
  append_json_string(out, request_id);
  out.append(",\"sockets\":[");
  out.append(sockets_json);
  out.append("]}");
}

void append_fetched_socket(std::string& out, std::string_view id,
                           const std::vector<std::string>& rooms, std::string_view handshake_json,
                           std::string_view data_json) {
  engineio::JsonWriter w(out);
  w.begin_object().key("id").string(id);
  if (!handshake_json.empty()) w.key("handshake").raw(handshake_json);
  w.key("rooms");
  json_str_array(w, rooms);
  if (!data_json.empty()) w.key("data").raw(data_json);
  w.end_object();
}

void encode_server_side_emit_response(std::string& out, std::string_view request_id,
                                      std::string_view data_json) {
  engineio::JsonWriter w(out);
  json_response_head(w, request_id, RequestType::kServerSideEmit);
  // JSON.stringify omits a member whose value is undefined (an ack called with no argument).
  if (!data_json.empty()) w.key("data").raw(data_json);
  w.end_object();
}

void encode_client_count(std::string& out, std::string_view request_id, uint64_t count) {
  engineio::JsonWriter w(out);
  json_response_head(w, request_id, RequestType::kBroadcastClientCount)
      .key("clientCount")
      .number(count)
      .end_object();
}

Result<void> encode_broadcast_ack(std::string& out, std::string_view request_id,
                                  std::string_view arg_json) {
  const size_t start = out.size();
  Writer w(out);
  // notepack omits a key whose value is undefined: an ack with no argument has no `packet`.
  w.map(arg_json.empty() ? 2 : 3);
  w.str("type");
  w.integer(static_cast<int>(RequestType::kBroadcastAck));
  w.str("requestId");
  w.str(request_id);
  if (!arg_json.empty()) {
    w.str("packet");
    Result<void> r = json_to_msgpack(arg_json, {}, out, kMaxDepth);
    if (!r) {
      out.resize(start);
      return r;
    }
  }
  return {};
}

}  // namespace sb::adapter::classic
