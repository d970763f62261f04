#pragma once
// Cross-origin resource sharing for the HTTP endpoints (long-polling) and the WebSocket handshake.
//
// Default: no allow-list, so no cross-origin header is ever sent and preflights are not answered
// specially (an OPTIONS request is routed like any other). Origins match exactly (scheme, host and
// port as the browser sends them); "*" must be listed explicitly to allow every origin.
// A preflight from an origin that is not allowed gets 403 without any Access-Control-* header.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace sb::http {

struct CorsOptions {
  /// Exact origins ("https://app.example.com"), or "*" for any.
  std::vector<std::string> allowed_origins;
  /// Sends Access-Control-Allow-Credentials: true (cookies with XHR/fetch "include").
  bool allow_credentials = true;
  /// Preflight answer's Access-Control-Allow-Methods.
  std::string allow_methods = "GET, POST, OPTIONS";
  /// Access-Control-Max-Age on preflights; 0 omits it.
  uint32_t max_age_seconds = 0;
  /// Access-Control-Request-Headers longer than this are not echoed.
  size_t max_echoed_headers_bytes = 1024;
};

class Cors {
 public:
  /// Room for every header a CORS answer adds.
  static constexpr size_t kMaxHeaders = 6;
  using HeaderArray = std::array<Header, kMaxHeaders>;

  explicit Cors(CorsOptions options = {});

  bool enabled() const { return !options_.allowed_origins.empty(); }
  const CorsOptions& options() const { return options_; }

  /// True if `origin` is on the allow-list (or "*" is). Used by the WebSocket handshake too.
  bool origin_allowed(std::string_view origin) const;

  /// The headers to add to an ordinary response for a request from `origin` (empty origin or not
  /// allowed: none). Views point into `origin` and the options. Returns how many were written.
  size_t response_headers(std::string_view origin, HeaderArray& out) const;

  /// True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
  static bool is_preflight(const Request& req);

  /// The answer to a preflight: 204 with the allow headers, or 403 for an origin not allowed.
  /// `out` holds the headers the response points to.
  Response preflight(const Request& req, HeaderArray& out) const;

 private:
  CorsOptions options_;
  bool any_ = false;
  std::string max_age_;
};

}  // namespace sb::http
