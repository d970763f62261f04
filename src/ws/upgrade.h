#pragma once
// The bridge from an HTTP route to a WebSocket session: validates the upgrade request, answers
// failures with their status (400/403/426), and on success queues the 101 and hands the
// connection to a Session bound to the route's Endpoint.

#include <functional>
#include <string_view>

#include "http/router.h"
#include "ws/session.h"

namespace sb::ws {

/// A route handler (GET) that upgrades to a Session of `endpoint`. `endpoint` and `options` must
/// outlive the server. `allow_origin` (may be empty = any) decides browser Origins (403 if not).
http::RouteHandler upgrade_route(Endpoint& endpoint, const SessionOptions& options,
                                 std::function<bool(std::string_view)> allow_origin);

}  // namespace sb::ws
