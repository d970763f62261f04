#pragma once
// HTTP status codes used by the server and their reason phrases. Statuses are plain integers so a
// route can answer with any code; the named constants cover what this codebase sends.

#include <cstdint>
#include <string_view>

namespace sb::http {

namespace status {
inline constexpr uint16_t kContinue = 100;
inline constexpr uint16_t kSwitchingProtocols = 101;
inline constexpr uint16_t kOk = 200;
inline constexpr uint16_t kNoContent = 204;
inline constexpr uint16_t kMovedPermanently = 301;
inline constexpr uint16_t kNotModified = 304;
inline constexpr uint16_t kBadRequest = 400;
inline constexpr uint16_t kForbidden = 403;
inline constexpr uint16_t kNotFound = 404;
inline constexpr uint16_t kMethodNotAllowed = 405;
inline constexpr uint16_t kRequestTimeout = 408;
inline constexpr uint16_t kLengthRequired = 411;
inline constexpr uint16_t kPayloadTooLarge = 413;
inline constexpr uint16_t kUriTooLong = 414;
inline constexpr uint16_t kExpectationFailed = 417;
inline constexpr uint16_t kHeaderFieldsTooLarge = 431;
inline constexpr uint16_t kInternalServerError = 500;
inline constexpr uint16_t kNotImplemented = 501;
inline constexpr uint16_t kServiceUnavailable = 503;
inline constexpr uint16_t kVersionNotSupported = 505;
}  // namespace status

/// The standard reason phrase ("Not Found"), or "Unknown" for an unregistered code.
std::string_view reason_phrase(uint16_t code);

/// True for statuses whose responses never carry a body or Content-Length (1xx, 204, 304).
inline bool status_has_no_body(uint16_t code) {
  return code < 200 || code == status::kNoContent || code == status::kNotModified;
}

}  // namespace sb::http
