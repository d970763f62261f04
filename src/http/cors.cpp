#include "http/cors.h"

#include "http/status.h"

namespace sb::http {
namespace {

// Access-Control-Request-Headers is echoed back, so it must be a plain list of header names.
bool plain_token_list(std::string_view v) {
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == ',' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Cors::Cors(CorsOptions options) : options_(std::move(options)) {
  for (const std::string& o : options_.allowed_origins) {
    if (o == "*") any_ = true;
  }
  if (options_.max_age_seconds > 0) max_age_ = std::to_string(options_.max_age_seconds);
}

bool Cors::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  for (const std::string& o : options_.allowed_origins) {
    if (o == origin) return true;
  }
  return false;
}

size_t Cors::response_headers(std::string_view origin, HeaderArray& out) const {
  if (!enabled() || !origin_allowed(origin)) return 0;
  size_t n = 0;
  // "*" cannot be combined with credentials in browsers, so with credentials the origin is echoed.
  const bool star = any_ && !options_.allow_credentials;
  out[n++] = Header{"Access-Control-Allow-Origin", star ? std::string_view("*") : origin};
  if (!star) out[n++] = Header{"Vary", "Origin"};
  if (options_.allow_credentials) out[n++] = Header{"Access-Control-Allow-Credentials", "true"};
  return n;
}

bool Cors::is_preflight(const Request& req) {
  return req.method == Method::kOptions && req.header("origin").has_value() &&
         req.header("access-control-request-method").has_value();
}

Response Cors::preflight(const Request& req, HeaderArray& out) const {
  const std::string_view origin = req.header("origin").value_or("");
  size_t n = response_headers(origin, out);
  if (n == 0) return text_response(status::kForbidden, "origin not allowed\n");
  out[n++] = Header{"Access-Control-Allow-Methods", options_.allow_methods};
  const auto requested = req.header("access-control-request-headers");
  if (requested && !requested->empty() && requested->size() <= options_.max_echoed_headers_bytes &&
      plain_token_list(*requested)) {
    out[n++] = Header{"Access-Control-Allow-Headers", *requested};
  }
  if (!max_age_.empty()) out[n++] = Header{"Access-Control-Max-Age", max_age_};
  Response r;
  r.status = status::kNoContent;
  r.headers = std::span<const Header>(out.data(), n);
  return r;
}

}  // namespace sb::http
