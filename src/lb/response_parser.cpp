#include "lb/response_parser.h"

#include <algorithm>

#include "http/request_parser.h"

namespace sb::lb {
namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (http::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

ResponseParse fail(std::string_view why) {
  return {ResponseStatus::kError, why};
}

// "HTTP/1.x SSS reason" — the reason phrase may be empty but the space before it may not be
// missing... except that real servers omit it; RFC 9112 §4 allows an empty reason, so accept both.
bool parse_status_line(std::string_view line, ResponseHead& out) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
  if (line[7] != '0' && line[7] != '1') return false;
  out.version_minor = static_cast<uint8_t>(line[7] - '0');
  uint16_t code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    code = static_cast<uint16_t>(code * 10 + (line[i] - '0'));
  }
  if (code < 100) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  out.status = code;
  return true;
}

}  // namespace

std::optional<std::string_view> ResponseHead::header(std::string_view name) const {
  for (const auto& h : headers()) {
    if (http::iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

BodyKind ResponseHead::body_kind(bool head_request) const {
  if (head_request || (status >= 100 && status < 200) || status == 204 || status == 304) {
    return BodyKind::kNone;
  }
  if (chunked) return BodyKind::kChunked;
  if (content_length) return *content_length == 0 ? BodyKind::kNone : BodyKind::kLength;
  return BodyKind::kUntilClose;
}

ResponseParse ResponseParser::parse(std::string_view data, ResponseHead& out) {
  const size_t limit = std::min(limits_.max_header_bytes, data.size());
  size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
  size_t end = data.substr(0, limit).find("\r\n\r\n", from);
  if (end == std::string_view::npos) {
    if (data.size() >= limits_.max_header_bytes) return fail("response head too large");
    scanned_ = data.size();
    return {};
  }
  scanned_ = 0;
  out = ResponseHead{};
  out.head_size = end + 4;
  std::string_view head = data.substr(0, end + 2);  // every line keeps its CRLF
  size_t eol = head.find("\r\n");
  if (!parse_status_line(head.substr(0, eol), out)) return fail("bad status line");
  head.remove_prefix(eol + 2);
  const size_t max_headers = std::min(limits_.max_headers, http::kMaxHeadersCapacity);
  bool connection_close = false;
  bool connection_keep_alive = false;
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return fail("bare CR or LF in header");
    }
    if (line.empty() || line.front() == ' ' || line.front() == '\t') {
      return fail("obsolete line folding");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("header without name");
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_tchar)) return fail("bad header name");
    if (out.header_count >= max_headers) return fail("too many headers");
    std::string_view value = trim(line.substr(colon + 1));
    out.header_storage[out.header_count++] = http::Header{name, value};
    if (http::iequals(name, "content-length")) {
      uint64_t n = 0;
      if (!http::parse_content_length(value, n)) return fail("bad Content-Length");
      if (out.content_length && *out.content_length != n) return fail("conflicting Content-Length");
      out.content_length = n;
    } else if (http::iequals(name, "transfer-encoding")) {
      // Only "chunked" as the final (and, for us, only) coding frames a body we can forward.
      if (!http::iequals(value, "chunked")) return fail("unsupported Transfer-Encoding");
      out.chunked = true;
    } else if (http::iequals(name, "connection")) {
      connection_close = connection_close || has_token(value, "close");
      connection_keep_alive = connection_keep_alive || has_token(value, "keep-alive");
    }
  }
  if (out.chunked && out.content_length) return fail("Content-Length with Transfer-Encoding");
  out.keep_alive = out.version_minor == 1 ? !connection_close : connection_keep_alive;
  return {ResponseStatus::kComplete, {}};
}

ChunkedScanner::Step ChunkedScanner::feed(std::string_view data) {
  // Limits: a chunk size of at most 16 hex digits, extensions and trailer lines of at most 4 KiB.
  constexpr size_t kMaxLine = 4096;
  Step s;
  size_t i = 0;
  while (i < data.size() && state_ != State::kDone) {
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d >= 0) {
          if (++size_digits_ > 15) return {i, true};
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(d);
          ++i;
          break;
        }
        if (size_digits_ == 0) return {i, true};
        if (c == ';') {
          state_ = State::kExt;
          line_len_ = 0;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return {i, true};
        }
        ++i;
        break;
      }
      case State::kExt:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n' || ++line_len_ > kMaxLine) {
          return {i, true};
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return {i, true};
        ++i;
        size_digits_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailer;
          line_len_ = 0;
          trailer_cr_ = false;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - i));
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return {i, true};
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return {i, true};
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailer:
        // Trailer lines until an empty one; each must end in CRLF.
        ++i;
        if (trailer_cr_) {
          if (c != '\n') return {i - 1, true};
          if (line_len_ == 0) {
            state_ = State::kDone;
          } else {
            line_len_ = 0;
            trailer_cr_ = false;
          }
        } else if (c == '\r') {
          trailer_cr_ = true;
        } else if (c == '\n' || ++line_len_ > kMaxLine) {
          return {i - 1, true};
        }
        break;
      case State::kDone:
        break;
    }
  }
  s.consumed = i;
  return s;
}

}  // namespace sb::lb
