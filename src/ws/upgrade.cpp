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

http::RouteHandler upgrade_route(Endpoint& endpoint, const SessionOptions& options,
                                 std::function<bool(std::string_view)> allow_origin) {
  HandshakeOptions hs;
  hs.deflate = options.deflate;
  hs.allow_origin = std::move(allow_origin);
  // Shared by the route's sessions: on the heap, so its address survives copies of the route.
  auto route = std::make_shared<const SessionRoute>(SessionRoute{endpoint, options});
  return [route, hs = std::move(hs)](http::Exchange& ex) {
    HandshakeOutcome out = validate_upgrade(ex.request(), hs);
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
    auto session = std::make_unique<Session>(ex.connection(), *route, out.deflate);
    Session* s = session.get();
    ex.upgrade(std::move(session), out.response);
    s->start();
  };
}

}  // namespace sb::ws
