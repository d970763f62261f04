#pragma once
// Strict, incremental, sans-I/O HTTP/1.1 response-head parser and body framer for the balancer's
// backend side. The request side reuses http::RequestParser; responses need their own because the
// first line and the body rules differ (RFC 9112 §6.3: HEAD, 1xx, 204 and 304 have no body; a
// chunked body ends at its last chunk; with neither length nor chunking the body runs to close).
//
// Contract (same as RequestParser): parse() is given everything not yet consumed from the first
// byte of the response; kNeedMore means "call again with the same bytes plus more". Views in the
// result point into that data. Lines must end in CRLF; obsolete line folding, a bad status line,
// duplicate differing Content-Length, or Content-Length together with Transfer-Encoding is an
// error — a balancer that guesses at framing is a request-smuggling vector.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "http/request.h"

namespace sb::lb {

struct ResponseLimits {
  size_t max_header_bytes = 16384;
  size_t max_headers = 100;  // clamped to http::kMaxHeadersCapacity
};

enum class BodyKind : uint8_t {
  kNone,       // no body (HEAD, 1xx, 204, 304)
  kLength,     // exactly content_length bytes
  kChunked,    // Transfer-Encoding: chunked, framed by ChunkedScanner
  kUntilClose  // the body ends when the backend closes
};

struct ResponseHead {
  uint16_t status = 0;
  uint8_t version_minor = 1;
  bool keep_alive = true;  // from the version and the Connection header
  std::optional<uint64_t> content_length;
  bool chunked = false;
  size_t head_size = 0;  // bytes including the final CRLFCRLF
  std::array<http::Header, http::kMaxHeadersCapacity> header_storage{};
  size_t header_count = 0;

  std::span<const http::Header> headers() const { return {header_storage.data(), header_count}; }
  std::optional<std::string_view> header(std::string_view name) const;
  /// How the body that follows is delimited, given whether the request was a HEAD.
  BodyKind body_kind(bool head_request) const;
};

enum class ResponseStatus : uint8_t { kNeedMore, kComplete, kError };

struct ResponseParse {
  ResponseStatus status = ResponseStatus::kNeedMore;
  std::string_view reason;  // kError: a string literal
};

class ResponseParser {
 public:
  explicit ResponseParser(ResponseLimits limits = {}) : limits_(limits) {}
  ResponseParse parse(std::string_view data, ResponseHead& out);
  void reset() { scanned_ = 0; }

 private:
  ResponseLimits limits_;
  size_t scanned_ = 0;  // no CRLFCRLF ends before this offset (keeps trickled heads O(n))
};

/// Walks a chunked body (sizes, extensions, data, trailers) without copying it: feed() returns how
/// many of the given bytes belong to the body; done() once the last chunk and trailers are through.
class ChunkedScanner {
 public:
  struct Step {
    size_t consumed = 0;
    bool error = false;
  };
  Step feed(std::string_view data);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State : uint8_t { kSize, kExt, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kDone };
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  size_t size_digits_ = 0;
  size_t line_len_ = 0;  // current trailer line (0 at its start)
  bool trailer_cr_ = false;
};

}  // namespace sb::lb
