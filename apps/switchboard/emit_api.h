#pragma once
// POST /api/v1/emit: lets a backend in another language emit to this node's Socket.IO clients.
//
//   POST /api/v1/emit
//   Authorization: Bearer <api_key>
//   {"nsp": "/", "rooms": ["a", "b"], "except": ["c"], "event": "news", "data": {...}}
//
// `nsp` defaults to "/"; `rooms` / `except` are a string or an array of strings (no rooms: every
// socket of the namespace); `data` is the one event argument (absent: none). Answers:
// 200 {"ok":true}; 400 {"error":…} for a malformed body; 401 without the right key; 404 for an
// unknown namespace. Mounted only when a key is configured (--api-key / TOML api_key).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"
#include "socketio/server.h"

namespace sb::app {

/// `"room"` or `["a","b"]` (raw JSON, already validated) as strings; empty for `null` or nothing;
/// nullopt for anything else. Shared with the chat app's test hooks.
std::optional<std::vector<std::string>> string_list(std::string_view raw);

/// Adds the route; `io` and the router must outlive serving.
void add_emit_api(http::Router& router, socketio::Server& io, std::string api_key);

}  // namespace sb::app
