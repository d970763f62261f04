#include "ws/upgrade.h"

#include <array>
#include <memory>

#include "common/metrics.h"
#include "http/server.h"
#include "ws/handshake.h"

namespace sb::ws {
namespace {

metrics::Counter& rejected_handshakes() {
  static metrics::Counter c("sb_ws_handshakes_rejected_total", "WebSocket upgrades refused");
  return c;
}

}  // namespace

bool same_origin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() > scheme.size() && http::iequals(origin.substr(0, scheme.size()), scheme)) {
      return !host.empty() && http::iequals(origin.substr(scheme.size()), host);
    }
  }
  return false;
}

http::RouteHandler upgrade_route(Endpoint& endpoint, const SessionOptions& options,
                                 std::function<bool(std::string_view)> allow_origin) {
  HandshakeOptions hs;
  hs.deflate = options.deflate;
  // The Origin rule is applied here rather than in validate_upgrade, because it needs the Host:
  // a page served by this node (same origin) may always connect; others only if allowed.
  return [&endpoint, &options, hs = std::move(hs),
          allow = std::move(allow_origin)](http::Exchange& ex) {
    const http::Request& req = ex.request();
    if (auto origin = req.header("origin");
        origin && allow && !same_origin(*origin, req.header("host").value_or("")) &&
        !allow(*origin)) {
      rejected_handshakes().inc();
      ex.respond(http::text_response(403, "origin not allowed"));
      return;
    }
    HandshakeOutcome out = validate_upgrade(req, hs);
    if (!out.ok()) {
      rejected_handshakes().inc();
      // 426 must name the version we speak (RFC 6455 §4.4).
      static constexpr std::array<http::Header, 1> kVersion{
          http::Header{"Sec-WebSocket-Version", "13"}};
      http::Response r = http::text_response(static_cast<uint16_t>(out.status), out.reason);
      if (out.status == 426) r.headers = kVersion;
      ex.respond(r);
      return;
    }
    auto session = std::make_unique<Session>(ex.connection(), endpoint, options, out.deflate);
    Session* s = session.get();
    ex.upgrade(std::move(session), out.response);
    s->start();
  };
}

}  // namespace sb::ws
