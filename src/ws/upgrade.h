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
/// outlive the server. A browser Origin equal to the request's own host (a page this node served)
/// is always accepted; another Origin only if `allow_origin` says so (403 otherwise). An empty
/// `allow_origin` accepts every Origin; a request without Origin (not a browser) is accepted.
http::RouteHandler upgrade_route(Endpoint& endpoint, const SessionOptions& options,
                                 std::function<bool(std::string_view)> allow_origin);

}  // namespace sb::ws
