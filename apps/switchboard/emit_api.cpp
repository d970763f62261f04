#include "emit_api.h"

#include <optional>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "http/server.h"
#include "socketio/args.h"
#include "socketio/packet.h"

namespace sb::app {
namespace {

using socketio::Args;
using socketio::Json;

constexpr std::string_view kJson = "application/json";

void reply(http::Exchange& ex, uint16_t status, std::string_view error) {
  if (status == 200) {
    ex.respond(200, kJson, R"({"ok":true})");
    return;
  }
  std::string body = R"({"error":")";
  body += error;  // our own constant texts: nothing to escape
  body += "\"}";
  ex.respond(status, kJson, body);
}

// Compares without an early exit, so the time taken does not tell how much of the key matched
// (only whether the length did).
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

void handle(http::Exchange& ex, socketio::Server& io, const std::string& key) {
  const auto auth = ex.request().header("authorization");
  if (!auth || !auth->starts_with("Bearer ") || !same_key(auth->substr(7), key)) {
    reply(ex, 401, "unauthorized");
    return;
  }
  // Validated by the Socket.IO packet decoder (simdjson, depth-limited) as the one argument of
  // an event: the body gets exactly the checks a client's event arguments get.
  const std::string packet = std::string(R"(2["x",)") + std::string(ex.request().body) + "]";
  auto decoded = socketio::decode_packet(packet);
  if (!decoded) {
    reply(ex, 400, "body is not valid JSON");
    return;
  }
  const Args body(decoded->args);
  if (body.size() != 1 || body.raw(0).front() != '{') {
    reply(ex, 400, "body must be a JSON object");
    return;
  }
  const std::string event = body.str(0, "event");
  if (event.empty() || socketio::is_reserved_event(event)) {
    reply(ex, 400, "event must be a non-reserved, non-empty string");
    return;
  }
  const auto nsp_raw = body.field(0, "nsp");
  const std::string nsp = nsp_raw ? body.str(0, "nsp") : "/";
  const auto rooms = string_list(body.field(0, "rooms").value_or(""));
  const auto except = string_list(body.field(0, "except").value_or(""));
  if (nsp.empty() || !rooms || !except) {
    reply(ex, 400, "nsp must be a string; rooms and except strings or arrays of strings");
    return;
  }
  socketio::Namespace* ns = io.find(nsp);
  if (ns == nullptr) {
    reply(ex, 404, "unknown namespace");
    return;
  }
  socketio::BroadcastOperator op(*ns);
  for (const std::string& r : *rooms)
    op = std::move(op).to(r);
  for (const std::string& r : *except)
    op = std::move(op).except(r);
  if (const auto data = body.field(0, "data"); data) {
    const Json arg = Json::raw(*data);
    op.emit_args(event, std::span<const Json>(&arg, 1));
  } else {
    op.emit_args(event, {});
  }
  reply(ex, 200, {});
}

}  // namespace

std::optional<std::vector<std::string>> string_list(std::string_view raw) {
  std::vector<std::string> out;
  if (raw.empty() || raw == "null") return out;
  if (raw.front() == '"') {
    out.push_back(Args(raw).str(0));
    return out;
  }
  if (raw.front() != '[') return std::nullopt;
  const Args items(raw.substr(1, raw.size() - 2));
  for (size_t i = 0; i < items.size(); ++i) {
    if (items.raw(i).empty() || items.raw(i).front() != '"') return std::nullopt;
    out.push_back(items.str(i));
  }
  return out;
}

void add_emit_api(http::Router& router, socketio::Server& io, std::string api_key) {
  router.add("/api/v1/emit", {http::Method::kPost},
             [&io, key = std::move(api_key)](http::Exchange& ex) { handle(ex, io, key); });
  SB_LOG_INFO("POST /api/v1/emit enabled");
}

}  // namespace sb::app
