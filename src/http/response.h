#pragma once
// Response serialization. A response is described by value (status, content type, body, extra
// headers) and serialized straight into the connection's cork buffer with reserve/commit: the size
// is computed first, so a typical response is one memcpy-style pass and no allocation.
//
// Framing is the server's job, not the route's: Content-Length is always written (except for
// 1xx/204/304, which have no body), `Connection: close` when the connection will be closed, and
// HEAD answers carry the length of the body they omit.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/request.h"

namespace sb::net {
class Connection;
}

namespace sb::http {

struct Response {
  uint16_t status = 200;
  std::string_view content_type;  // omitted when empty
  std::string_view body;
  std::span<const Header> headers;  // extra headers, written as given (caller-validated)
  /// Length announced instead of body.size(); only for HEAD answers that never load the body.
  std::optional<uint64_t> content_length;
};

/// Decided by the server session for each response.
struct Framing {
  bool close = false;              // "Connection: close"; the session closes after writing
  bool keep_alive_header = false;  // "Connection: keep-alive" (HTTP/1.0 clients that asked for it)
  bool head_only = false;          // HEAD: headers only
  std::span<const Header> extra;   // headers added by the server (CORS)
};

/// Exact size of the serialized status line and headers, final CRLF included.
size_t serialized_head_size(const Response& r, const Framing& f);
/// Writes the head into `out` (at least serialized_head_size bytes); returns the bytes written.
size_t serialize_head(const Response& r, const Framing& f, char* out);
/// Head and body as one string (tests, tools; the server uses write_response).
std::string serialize_response(const Response& r, const Framing& f = {});
/// Queues the response on the connection (corked: leaves with this turn's other writes).
void write_response(net::Connection& c, const Response& r, const Framing& f);

/// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate, always 29 bytes).
std::string format_http_date(std::time_t t);
/// The current time as an IMF-fixdate, formatted at most once per second per thread.
std::string_view http_date_now();

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

/// A text/plain response.
inline Response text_response(uint16_t status, std::string_view body) {
  return Response{status, kTextPlain, body, {}, std::nullopt};
}

}  // namespace sb::http
