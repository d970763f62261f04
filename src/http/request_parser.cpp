#include "http/request_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "http/status.h"

namespace sb::http {
namespace {

using Table = std::array<bool, 256>;

// tchar (RFC 9110 §5.6.2): the characters of methods and header names.
constexpr Table make_tchar() {
  Table t{};
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
// Request-target bytes: visible ASCII. '#' is never sent by a client (fragments stay local);
// non-ASCII must be percent-encoded.
constexpr Table make_target() {
  Table t{};
  for (int c = 0x21; c <= 0x7e; ++c)
    t[static_cast<size_t>(c)] = c != '#';
  return t;
}
constexpr Table kTchar = make_tchar();
constexpr Table kTarget = make_target();

inline size_t uc(char c) {
  return static_cast<unsigned char>(c);
}

ParseResult fail(uint16_t code, std::string_view reason) {
  return ParseResult{ParseStatus::kError, code, reason};
}

// Field values allow VCHAR, obs-text, SP and HTAB: everything but CTLs other than HTAB, and DEL.
// Values are most of a head's bytes, so eight are checked at a time; a word that might hold a
// forbidden byte (or a tab) falls back to the exact per-byte test.
bool valid_field_value(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    const uint64_t below_space = (x - kOnes * 0x20) & ~x & kHigh;
    const uint64_t y = x ^ (kOnes * 0x7f);
    const uint64_t is_del = (y - kOnes) & ~y & kHigh;
    if ((below_space | is_del) != 0) break;
  }
  for (; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool lookup_method(std::string_view m, Method& out) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return out = Method::kGet, true;
      if (m == "PUT") return out = Method::kPut, true;
      return false;
    case 4:
      if (m == "POST") return out = Method::kPost, true;
      if (m == "HEAD") return out = Method::kHead, true;
      return false;
    case 5:
      if (m == "PATCH") return out = Method::kPatch, true;
      if (m == "TRACE") return out = Method::kTrace, true;
      return false;
    case 6:
      return m == "DELETE" ? (out = Method::kDelete, true) : false;
    case 7:
      if (m == "OPTIONS") return out = Method::kOptions, true;
      if (m == "CONNECT") return out = Method::kConnect, true;
      return false;
    default:
      return false;
  }
}

// Splits a request-target into path and query according to its form (RFC 9112 §3.2).
bool split_target(Method m, std::string_view target, Request* sink) {
  std::string_view path_and_query;
  if (target.front() == '/') {
    path_and_query = target;
  } else if (target == "*") {
    if (m != Method::kOptions) return false;
    if (sink != nullptr) sink->path = target, sink->query = {};
    return true;
  } else if (m == Method::kConnect) {
    // authority-form; no route serves CONNECT, but it is well-formed.
    if (sink != nullptr) sink->path = target, sink->query = {};
    return true;
  } else {
    // absolute-form: servers must accept it (RFC 9112 §3.2.2); only the path is used.
    size_t scheme = 0;
    if (target.size() > 7 && iequals(target.substr(0, 7), "http://")) scheme = 7;
    if (target.size() > 8 && iequals(target.substr(0, 8), "https://")) scheme = 8;
    if (scheme == 0) return false;
    const size_t auth_end = target.find_first_of("/?", scheme);
    if (auth_end == scheme) return false;  // empty authority
    if (auth_end == std::string_view::npos) {
      if (sink != nullptr) sink->path = "/", sink->query = {};
      return true;
    }
    path_and_query = target.substr(auth_end);
    if (path_and_query.front() == '?') {
      if (sink != nullptr) sink->path = "/", sink->query = path_and_query.substr(1);
      return true;
    }
  }
  if (sink != nullptr) {
    const size_t q = path_and_query.find('?');
    sink->path = path_and_query.substr(0, q);
    sink->query = q == std::string_view::npos ? std::string_view() : path_and_query.substr(q + 1);
  }
  return true;
}

ParseResult parse_request_line(std::string_view line, Request* sink) {
  size_t i = 0;
  while (i < line.size() && kTchar[uc(line[i])])
    ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return fail(400, "malformed method");
  const std::string_view method = line.substr(0, i);
  const size_t t0 = i + 1;
  size_t j = t0;
  while (j < line.size() && kTarget[uc(line[j])])
    ++j;
  if (j == t0) return fail(400, "malformed request target");
  if (j == line.size()) return fail(400, "missing HTTP version");
  if (line[j] != ' ') return fail(400, "malformed request target");
  const std::string_view target = line.substr(t0, j - t0);
  const std::string_view v = line.substr(j + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) {
    return fail(400, "malformed HTTP version");
  }
  if (v[5] != '1' || v[7] > '1') return fail(505, "HTTP version not supported");
  Method m{};
  if (!lookup_method(method, m)) return fail(405, "method not supported");
  if (!split_target(m, target, sink)) return fail(400, "malformed request target");
  if (sink != nullptr) {
    sink->method = m;
    sink->target = target;
    sink->version_minor = static_cast<uint8_t>(v[7] - '0');
  }
  return {};
}

ParseResult parse_header_line(std::string_view line, size_t index, size_t max_headers,
                              Request* sink) {
  if (index >= max_headers) return fail(431, "too many header fields");
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding");
  size_t i = 0;
  while (i < line.size() && kTchar[uc(line[i])])
    ++i;
  if (i == 0) return fail(400, "malformed header name");
  if (i == line.size()) return fail(400, "header without colon");
  if (line[i] != ':') {
    if (line[i] == ' ' || line[i] == '\t') return fail(400, "whitespace before colon");
    return fail(400, "malformed header name");
  }
  const std::string_view value = line.substr(i + 1);
  if (!valid_field_value(value)) return fail(400, "invalid character in header value");
  if (sink != nullptr) sink->header_storage[index] = Header{line.substr(0, i), trim_ows(value)};
  return {};
}

// Calls f(token) for each element of a comma-separated list.
template <typename F>
void for_each_token(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    f(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool parse_content_length(std::string_view v, uint64_t& out) {
  if (v.empty()) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  out = n;
  return true;
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {
  limits_.max_headers = std::min(limits_.max_headers, kMaxHeadersCapacity);
}

void RequestParser::reset() {
  start_ = line_start_ = scan_ = lines_ = 0;
}

ParseResult RequestParser::parse(std::string_view data, Request& out) {
  // Lines validated by earlier calls were not kept (their views pointed into an older buffer);
  // when the head completes after such a call it is re-read once, so each byte is looked at
  // at most twice. A head that arrives whole — the common case — is read once, straight into out.
  const bool fresh = lines_ == 0;
  ParseResult r = parse_lines(data, line_start_, fresh ? &out : nullptr);
  if (r.complete() && !fresh) {
    const size_t head_end = line_start_;
    lines_ = 0;
    line_start_ = scan_ = start_;
    r = parse_lines(data.substr(0, head_end), start_, &out);
  }
  if (r.complete()) r = finish(data, line_start_, out);
  if (r.status != ParseStatus::kNeedMore) reset();
  return r;
}

ParseResult RequestParser::parse_lines(std::string_view data, size_t from, Request* sink) {
  const char* base = data.data();
  size_t pos = std::max(from, scan_);
  for (;;) {
    const void* nl = pos < data.size() ? std::memchr(base + pos, '\n', data.size() - pos) : nullptr;
    const size_t end = nl == nullptr ? data.size() + 1
                                     : static_cast<size_t>(static_cast<const char*>(nl) - base) + 1;
    // Checked before the line's content (and, when the line is incomplete, on the bytes so far),
    // so a split input and a whole one fail the same way.
    if ((nl == nullptr ? data.size() : end) > limits_.max_header_bytes) {
      return lines_ == 0 ? fail(414, "request line too long") : fail(431, "header block too large");
    }
    if (nl == nullptr) {
      scan_ = data.size();
      return {};
    }
    const size_t lf = end - 1;
    if (lf == line_start_ || base[lf - 1] != '\r') return fail(400, "bare LF line ending");
    const std::string_view line(base + line_start_, lf - 1 - line_start_);
    line_start_ = scan_ = pos = end;
    if (line.empty()) {
      if (lines_ == 0) {  // an empty line before the request line is skipped
        start_ = end;
        continue;
      }
      return ParseResult{ParseStatus::kComplete, 0, {}};
    }
    const ParseResult r = lines_ == 0
                              ? parse_request_line(line, sink)
                              : parse_header_line(line, lines_ - 1, limits_.max_headers, sink);
    if (r.error()) return r;
    ++lines_;
  }
}

// Whole-head rules, applied once the head is complete.
ParseResult RequestParser::finish(std::string_view /*data*/, size_t head_end, Request& out) {
  out.head_size = head_end;
  out.header_count = lines_ - 1;
  out.content_length.reset();
  out.body = {};
  bool has_te = false, conn_close = false, conn_keep_alive = false, conn_upgrade = false;
  bool bad_length = false;
  int hosts = 0;
  for (const Header& h : out.headers()) {
    switch (h.name.size()) {
      case 4:
        if (iequals(h.name, "host")) ++hosts;
        break;
      case 10:
        if (iequals(h.name, "connection")) {
          for_each_token(h.value, [&](std::string_view t) {
            if (iequals(t, "close")) {
              conn_close = true;
            } else if (iequals(t, "keep-alive")) {
              conn_keep_alive = true;
            } else if (iequals(t, "upgrade")) {
              conn_upgrade = true;
            }
          });
        }
        break;
      case 14:
        if (iequals(h.name, "content-length")) {
          uint64_t n = 0;
          if (!parse_content_length(h.value, n) ||
              (out.content_length && *out.content_length != n)) {
            bad_length = true;
          }
          out.content_length = n;
        }
        break;
      case 17:
        if (iequals(h.name, "transfer-encoding")) has_te = true;
        break;
      default:
        break;
    }
  }
  if (has_te && out.content_length) return fail(400, "both Content-Length and Transfer-Encoding");
  if (bad_length) return fail(400, "invalid Content-Length");
  if (has_te) return fail(411, "Transfer-Encoding request bodies are not supported");
  if (hosts > 1) return fail(400, "more than one Host header");
  if (hosts == 0 && out.version_minor == 1) return fail(400, "missing Host header");
  out.keep_alive = out.version_minor == 1 ? !conn_close : (conn_keep_alive && !conn_close);
  out.upgrade = conn_upgrade;
  return ParseResult{ParseStatus::kComplete, 0, {}};
}

}  // namespace sb::http
