#pragma once
// Strict, incremental, sans-I/O HTTP/1.1 request-head parser.
//
// Contract with the caller (the server session, the fuzzer, tests): parse() is given everything
// not yet consumed, from the first byte of the current request; when it answers kNeedMore the
// caller comes back later with the same bytes followed by more. The parser remembers how far it
// has scanned and validated, so a head trickled in one byte at a time costs O(n), not O(n²).
// After kComplete or kError the parser is ready for the next request (pipelining).
//
// The same input gives the same answer at every split point: per-line errors are found line by
// line in order, and whole-head checks (Content-Length, Host...) run once the head is complete.
//
// Decisions (see docs/http.md): lines must end in CRLF (a bare LF is a 400, which also closes the
// request-smuggling gap between lenient and strict parsers); empty lines before the request line
// are skipped (RFC 9112 §2.2); request bodies with Transfer-Encoding are refused with 411.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/request.h"

namespace sb::http {

struct ParserLimits {
  /// Whole head, request line through the final CRLFCRLF. Over it: 431 (414 when the request
  /// line alone does not fit).
  size_t max_header_bytes = 16384;
  /// Header fields; over it: 431. Clamped to kMaxHeadersCapacity.
  size_t max_headers = 100;
};

enum class ParseStatus : uint8_t { kNeedMore, kComplete, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  uint16_t http_status = 0;  // kError: the status to answer with (400, 405, 411, 414, 431, 505)
  std::string_view reason;   // kError: a string literal for logs and the response body

  bool complete() const { return status == ParseStatus::kComplete; }
  bool error() const { return status == ParseStatus::kError; }
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});

  /// Parses the head at the start of `data`. kComplete fills `out` (views into `data`, head_size
  /// set); kError names the status to answer with. The caller then decides what to consume.
  ParseResult parse(std::string_view data, Request& out);
  ParseResult parse(std::span<const uint8_t> data, Request& out) {
    return parse(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), out);
  }

  /// Forgets any partial progress (the next parse() starts a new request).
  void reset();
  const ParserLimits& limits() const { return limits_; }

 private:
  ParseResult parse_lines(std::string_view data, size_t from, Request* sink);
  ParseResult finish(std::string_view data, size_t head_end, Request& out);

  ParserLimits limits_;
  // Progress over the current head, as offsets from the start of the data (stable across calls).
  size_t start_ = 0;       // first byte of the request line (after skipped empty lines)
  size_t line_start_ = 0;  // first byte of the first line not yet validated
  size_t scan_ = 0;        // no '\n' in [line_start_, scan_)
  size_t lines_ = 0;       // lines validated so far (request line + headers)
};

/// Parses a Content-Length value: 1*DIGIT without overflow. Returns false otherwise.
bool parse_content_length(std::string_view v, uint64_t& out);

}  // namespace sb::http
