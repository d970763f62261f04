#include "bench/polling_codec.h"
#include "http/request.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace sb::bench {
namespace {

constexpr size_t kMaxLengthDigits = 15;  // ~1 PB: far above any max_body, never overflows
constexpr size_t kMaxSidLength = 64;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Digits only, 1..kMaxLengthDigits of them.
std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > kMaxLengthDigits) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Calls fn(token) for each comma-separated token of a header value.
template <typename Fn>
void for_each_token(std::string_view value, Fn fn) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    fn(http::trim_ows(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

HttpResponse error(std::string_view why) {
  HttpResponse r;
  r.status = HttpParseStatus::kError;
  r.error = why;
  return r;
}

// "HTTP/1.x NNN[ reason]": the status code, and whether the version is 1.0.
bool parse_status_line(std::string_view line, uint16_t& code, bool& http10) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    return false;
  }
  code = static_cast<uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  http10 = line[7] == '0';
  return code >= 100;
}

// Position just after `"key"` + optional whitespace + ':' + optional whitespace, or npos.
size_t value_of(std::string_view json, std::string_view quoted_key) {
  size_t at = json.find(quoted_key);
  if (at == std::string_view::npos) return at;
  at += quoted_key.size();
  while (at < json.size() && (json[at] == ' ' || json[at] == '\t'))
    ++at;
  if (at >= json.size() || json[at] != ':') return std::string_view::npos;
  ++at;
  while (at < json.size() && (json[at] == ' ' || json[at] == '\t'))
    ++at;
  return at;
}

std::optional<uint64_t> number_of(std::string_view json, std::string_view quoted_key) {
  size_t at = value_of(json, quoted_key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t end = at;
  while (end < json.size() && is_digit(json[end]))
    ++end;
  return parse_decimal(json.substr(at, end - at));
}

bool sid_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

void append_head(std::string& out, std::string_view method, std::string_view path,
                 std::string_view host) {
  out += method;
  out += ' ';
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\nAccept: */*\r\n";
}

}  // namespace

HttpResponse parse_http_response(std::string_view data, size_t max_body) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > kMaxResponseHeadBytes) return error("response head too large");
    return HttpResponse{};
  }
  const size_t head_size = end + 4;
  if (head_size > kMaxResponseHeadBytes) return error("response head too large");
  std::string_view head = data.substr(0, end + 2);  // every line with its CRLF
  size_t eol = head.find("\r\n");
  uint16_t code = 0;
  bool http10 = false;
  if (!parse_status_line(head.substr(0, eol), code, http10)) return error("bad status line");
  head.remove_prefix(eol + 2);
  std::optional<uint64_t> length;
  bool close_token = false;
  bool keep_alive_token = false;
  // Bounded by the head (≤ kMaxResponseHeadBytes): every iteration removes one line.
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return error("bad header line");
    const std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) return error("bad header line");
    const std::string_view value = http::trim_ows(line.substr(colon + 1));
    if (http::iequals(name, "Content-Length")) {
      const auto n = parse_decimal(value);
      if (!n) return error("bad Content-Length");
      if (length && *length != *n) return error("conflicting Content-Length");
      length = n;
    } else if (http::iequals(name, "Transfer-Encoding")) {
      return error("chunked responses are not supported");
    } else if (http::iequals(name, "Content-Encoding")) {
      if (!http::iequals(value, "identity")) return error("compressed responses are not supported");
    } else if (http::iequals(name, "Connection")) {
      for_each_token(value, [&](std::string_view t) {
        close_token = close_token || http::iequals(t, "close");
        keep_alive_token = keep_alive_token || http::iequals(t, "keep-alive");
      });
    }
  }
  if (code < 200) return error("interim (1xx) responses are not supported");
  if (code == 204 || code == 304) length = 0;
  if (!length) return error("response without Content-Length");
  if (*length > max_body) return error("response body too large");
  const size_t body_size = static_cast<size_t>(*length);
  if (data.size() - head_size < body_size) return HttpResponse{};
  HttpResponse r;
  r.status = HttpParseStatus::kComplete;
  r.code = code;
  r.close = http10 ? !keep_alive_token : close_token;
  r.body = data.substr(head_size, body_size);
  r.size = head_size + body_size;
  return r;
}

bool PayloadReader::next(std::string_view& packet) {
  if (done_) return false;
  const size_t sep = rest_.find('\x1e');
  if (sep == std::string_view::npos) {
    packet = rest_;
    rest_ = {};
    done_ = true;
    return true;
  }
  packet = rest_.substr(0, sep);
  rest_.remove_prefix(sep + 1);
  return true;
}

std::optional<OpenPacket> parse_open_packet(std::string_view json) {
  OpenPacket p;
  size_t at = value_of(json, "\"sid\"");
  if (at == std::string_view::npos || at >= json.size() || json[at] != '"') return std::nullopt;
  ++at;
  const size_t close = json.find('"', at);
  if (close == std::string_view::npos) return std::nullopt;
  p.sid = json.substr(at, close - at);
  if (p.sid.empty() || p.sid.size() > kMaxSidLength ||
      !std::all_of(p.sid.begin(), p.sid.end(), sid_char)) {
    return std::nullopt;
  }
  if (auto v = number_of(json, "\"pingInterval\"")) p.ping_interval_ms = *v;
  if (auto v = number_of(json, "\"pingTimeout\"")) p.ping_timeout_ms = *v;
  return p;
}

void append_poll_request(std::string& out, std::string_view path, std::string_view host) {
  append_head(out, "GET", path, host);
  out += "\r\n";
}

void append_post_request(std::string& out, std::string_view path, std::string_view host,
                         std::string_view body) {
  append_head(out, "POST", path, host);
  out += "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ";
  fmt::format_to(std::back_inserter(out), "{}", body.size());
  out += "\r\n\r\n";
  out += body;
}

}  // namespace sb::bench
