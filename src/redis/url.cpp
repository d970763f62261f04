#include "redis/url.h"

#include <charconv>

namespace sb::redis {
namespace {

constexpr int kMaxDb = 1 << 20;  // far above any real `databases` setting; catches garbage

Error bad(std::string_view reason) {
  return Error{Errc::kInvalidArgument, reason};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Credentials in URLs are percent-encoded by the tools that write them (a ':' or '@' in a
// password).
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;  // '%' needs two hex digits
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest = text;
  if (auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme == "rediss") return bad("redis url: TLS (rediss://) is not supported");
    if (scheme != "redis") return bad("redis url: scheme must be redis://");
    rest.remove_prefix(scheme_end + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("redis url: query parameters and fragments are not supported");
  }

  // The path is the database number.
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!path.empty()) {
      if (!parse_number(path, url.db) || url.db < 0 || url.db > kMaxDb) {
        return bad("redis url: database (after '/') must be a non-negative number");
      }
    }
  }

  // Credentials end at the last '@' (an unencoded '@' in a password still parses).
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    std::string_view user = cred;
    std::string_view password;
    if (auto colon = cred.find(':'); colon != std::string_view::npos) {
      user = cred.substr(0, colon);
      password = cred.substr(colon + 1);
    }
    if (!percent_decode(user, url.user) || !percent_decode(password, url.password)) {
      return bad("redis url: bad percent-encoding in user or password");
    }
  }

  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("redis url: unterminated '[' in IPv6 host");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("redis url: unexpected text after ']'");
      port = after.substr(1);
      if (port.empty()) return bad("redis url: empty port");
    }
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("redis url: empty port");
      if (port.find(':') != std::string_view::npos) {
        return bad("redis url: IPv6 hosts must be written in brackets ([::1]:6379)");
      }
    }
  }
  if (host.empty()) return bad("redis url: missing host");
  url.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535) {
      return bad("redis url: port must be a number in 1..65535");
    }
    url.port = static_cast<uint16_t>(value);
  }
  return url;
}

}  // namespace sb::redis
