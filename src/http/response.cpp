#include "http/response.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "http/status.h"
#include "net/connection.h"

namespace sb::http {
namespace {

// Responses up to this size are serialized into one reserved span; larger bodies are queued
// after the head (Connection::write splits them into blocks).
constexpr size_t kInlineBodyMax = 16 * 1024;
constexpr size_t kDateLen = 29;

class Out {
 public:
  explicit Out(char* p) : p_(p), start_(p) {}
  void put(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());  // an empty view may be null
    p_ += s.size();
  }
  void put_uint(uint64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }
  size_t size() const { return static_cast<size_t>(p_ - start_); }

 private:
  char* p_;
  char* start_;
};

size_t digits(uint64_t v) {
  size_t n = 1;
  while (v >= 10)
    v /= 10, ++n;
  return n;
}

uint64_t announced_length(const Response& r) {
  return r.content_length ? *r.content_length : r.body.size();
}

}  // namespace

size_t serialized_head_size(const Response& r, const Framing& f) {
  size_t n = 13 + reason_phrase(r.status).size() + 2;  // "HTTP/1.1 200 " reason CRLF
  n += 6 + kDateLen + 2;                               // "Date: " ... CRLF
  if (!r.content_type.empty()) n += 14 + r.content_type.size() + 2;
  if (!status_has_no_body(r.status)) n += 16 + digits(announced_length(r)) + 2;
  if (f.close) {
    n += 19;
  } else if (f.keep_alive_header) {
    n += 24;
  }
  for (const Header& h : r.headers)
    n += h.name.size() + 2 + h.value.size() + 2;
  for (const Header& h : f.extra)
    n += h.name.size() + 2 + h.value.size() + 2;
  return n + 2;
}

size_t serialize_head(const Response& r, const Framing& f, char* out) {
  Out o(out);
  o.put("HTTP/1.1 ");
  const uint16_t s = r.status;
  const char code[3] = {static_cast<char>('0' + s / 100 % 10), static_cast<char>('0' + s / 10 % 10),
                        static_cast<char>('0' + s % 10)};
  o.put(std::string_view(code, 3));
  o.put(" ");
  o.put(reason_phrase(s));
  o.put("\r\nDate: ");
  o.put(http_date_now());
  o.put("\r\n");
  if (!r.content_type.empty()) {
    o.put("Content-Type: ");
    o.put(r.content_type);
    o.put("\r\n");
  }
  if (!status_has_no_body(s)) {
    o.put("Content-Length: ");
    o.put_uint(announced_length(r));
    o.put("\r\n");
  }
  if (f.close) {
    o.put("Connection: close\r\n");
  } else if (f.keep_alive_header) {
    o.put("Connection: keep-alive\r\n");
  }
  for (std::span<const Header> hs : {r.headers, f.extra}) {
    for (const Header& h : hs) {
      o.put(h.name);
      o.put(": ");
      o.put(h.value);
      o.put("\r\n");
    }
  }
  o.put("\r\n");
  return o.size();
}

std::string serialize_response(const Response& r, const Framing& f) {
  std::string s(serialized_head_size(r, f), '\0');
  s.resize(serialize_head(r, f, s.data()));
  if (!f.head_only && !status_has_no_body(r.status)) s.append(r.body);
  return s;
}

void write_response(net::Connection& c, const Response& r, const Framing& f) {
  const size_t head = serialized_head_size(r, f);
  const std::string_view body =
      (f.head_only || status_has_no_body(r.status)) ? std::string_view() : r.body;
  const bool inline_body = body.size() <= kInlineBodyMax;
  const size_t want = head + (inline_body ? body.size() : 0);
  std::span<uint8_t> space = c.reserve(want);
  if (space.size() < want) return;  // the connection is no longer writable
  char* p = reinterpret_cast<char*>(space.data());
  size_t n = serialize_head(r, f, p);
  if (inline_body && !body.empty()) {
    std::memcpy(p + n, body.data(), body.size());
    n += body.size();
  }
  c.commit(n);
  if (!inline_body) c.write(body);
}

std::string format_http_date(std::time_t t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  // Pad or cut to the fixed width the size computation relies on (years outside 1000-9999).
  std::string out(buf);
  out.resize(kDateLen, ' ');
  return out;
}

std::string_view http_date_now() {
  // One formatting per second per loop thread; time() is a vDSO call.
  thread_local std::time_t cached_sec = -1;
  thread_local std::array<char, kDateLen> cached{};
  const std::time_t now = std::time(nullptr);
  if (now != cached_sec) {
    const std::string s = format_http_date(now);
    std::memcpy(cached.data(), s.data(), kDateLen);
    cached_sec = now;
  }
  return {cached.data(), kDateLen};
}

}  // namespace sb::http
