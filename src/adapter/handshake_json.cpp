#include "adapter/handshake_json.h"

#include <ctime>

#include "engineio/json_writer.h"
#include "engineio/socket.h"
#include "socketio/json.h"
#include "socketio/socket.h"

namespace sb::adapter {
namespace {

// JavaScript's Date.prototype.toString() in UTC (Node servers run in any zone; the field is
// informational): `Sat Nov 28 2026 00:48:32 GMT+0000 (Coordinated Universal Time)`.
std::string js_date_string(uint64_t ms) {
  const auto secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  const size_t n = std::strftime(buf, sizeof buf, "%a %b %d %Y %H:%M:%S GMT+0000", &tm);
  return std::string(buf, n) + " (Coordinated Universal Time)";
}

}  // namespace

void append_handshake_json(std::string& out, const socketio::Socket& s) {
  const engineio::HandshakeInfo* h = s.handshake();
  if (h == nullptr) return;
  engineio::JsonWriter w(out);
  w.begin_object().key("headers").begin_object();
  for (const auto& [k, v] : h->headers)
    w.key(k).string(v);
  w.end_object();
  w.key("time").string(js_date_string(h->issued_ms));
  w.key("address").string(h->address);
  w.key("xdomain").boolean(h->header("origin").has_value());
  // TLS is terminated in front of us (or by the loop layer, invisible here).
  w.key("secure").boolean(false);
  w.key("issued").number(h->issued_ms);
  w.key("url").string(h->url);
  w.key("query").begin_object();
  for (const auto& [k, v] : h->query)
    w.key(k).string(v);
  w.end_object();
  w.key("auth").raw(s.auth().json().empty() ? std::string_view("{}") : s.auth().json());
  w.end_object();
}

void append_data_json(std::string& out, const socketio::Socket& s) {
  if (const auto* j = std::any_cast<socketio::Json>(&s.data)) {
    std::vector<socketio::Bytes> att;
    j->write(out, att);
  }
}

}  // namespace sb::adapter
