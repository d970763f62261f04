#pragma once
// Server side of the RFC 6455 §4.2 opening handshake, sans-I/O: a parsed request head in, the
// complete response bytes out (101 on success; 400/403/426 with a text body and Connection:
// close on failure), plus the negotiated permessage-deflate parameters.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.h"
#include "ws/deflate.h"

namespace sb::ws {

struct HandshakeOptions {
  DeflateOptions deflate;
  /// Decides whether a browser Origin may connect (403 if not). Empty = every origin allowed.
  /// Requests without Origin (non-browser clients) are always allowed: Origin protects browser
  /// users from cross-site pages, and other clients can forge it anyway.
  std::function<bool(std::string_view origin)> allow_origin;
  /// Extra header lines for the 101 response (e.g. an affinity Set-Cookie), each ending in CRLF.
  std::string_view extra_headers;
};

struct HandshakeOutcome {
  int status = 0;                        ///< 101 on success; 400, 403 or 426 otherwise
  std::string_view reason;               ///< static text; also the failure body
  std::string response;                  ///< complete HTTP response bytes to send
  std::optional<DeflateParams> deflate;  ///< negotiated permessage-deflate, if any
  bool ok() const { return status == 101; }
};

/// True when `origin` ("http://host:port") names the same host and port as the Host header.
bool same_origin(std::string_view origin, std::string_view host);

/// Validates a WebSocket upgrade request and builds the response. A browser Origin equal to the
/// request's own Host is always accepted; another Origin only if `allow_origin` says so.
HandshakeOutcome validate_upgrade(const http::Request& req, const HandshakeOptions& opts);

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
std::array<char, 28> compute_accept(std::string_view key);

}  // namespace sb::ws
