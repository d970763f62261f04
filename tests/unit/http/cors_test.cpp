#include "http/cors.h"

#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.h"

namespace sb::http {
namespace {

// Parses a head kept alive in `buf` (the Request views point into it).
Request parse(const std::string& buf) {
  RequestParser p;
  Request req;
  EXPECT_TRUE(p.parse(buf, req).complete()) << buf;
  return req;
}

std::string find(const Response& r, std::string_view name) {
  for (const Header& h : r.headers) {
    if (iequals(h.name, name)) return std::string(h.value);
  }
  return "<none>";
}

TEST(Cors, DisabledByDefault) {
  Cors c;
  EXPECT_FALSE(c.enabled());
  EXPECT_FALSE(c.origin_allowed("http://a.example"));
  Cors::HeaderArray hs;
  EXPECT_EQ(c.response_headers("http://a.example", hs), 0u);
}

TEST(Cors, ExactOriginMatch) {
  Cors c(CorsOptions{{"http://a.example", "https://b.example:8443"}});
  EXPECT_TRUE(c.origin_allowed("http://a.example"));
  EXPECT_TRUE(c.origin_allowed("https://b.example:8443"));
  EXPECT_FALSE(c.origin_allowed("https://a.example"));
  EXPECT_FALSE(c.origin_allowed("http://a.example:80"));
  EXPECT_FALSE(c.origin_allowed("http://a.example.evil.com"));
  EXPECT_FALSE(c.origin_allowed("HTTP://A.EXAMPLE"));
  EXPECT_FALSE(c.origin_allowed(""));
  EXPECT_FALSE(c.origin_allowed("null"));

  Cors::HeaderArray hs;
  ASSERT_EQ(c.response_headers("http://a.example", hs), 3u);
  EXPECT_EQ(hs[0].name, "Access-Control-Allow-Origin");
  EXPECT_EQ(hs[0].value, "http://a.example");
  EXPECT_EQ(hs[1].value, "Origin");
  EXPECT_EQ(hs[2].name, "Access-Control-Allow-Credentials");
  EXPECT_EQ(c.response_headers("http://evil.example", hs), 0u);
}

TEST(Cors, WildcardMustBeExplicit) {
  CorsOptions o{{"*"}};
  o.allow_credentials = false;
  Cors c(o);
  EXPECT_TRUE(c.origin_allowed("http://anything.example"));
  Cors::HeaderArray hs;
  ASSERT_EQ(c.response_headers("http://anything.example", hs), 1u);
  EXPECT_EQ(hs[0].value, "*");
  // With credentials a browser rejects "*": the origin is echoed instead.
  Cors cred(CorsOptions{{"*"}});
  ASSERT_EQ(cred.response_headers("http://x.example", hs), 3u);
  EXPECT_EQ(hs[0].value, "http://x.example");
}

TEST(Cors, PreflightForAllowedOrigin) {
  CorsOptions o{{"http://a.example"}};
  o.max_age_seconds = 600;
  Cors c(o);
  const std::string buf =
      "OPTIONS /socket.io/?EIO=4 HTTP/1.1\r\nHost: s\r\nOrigin: http://a.example\r\n"
      "Access-Control-Request-Method: POST\r\n"
      "Access-Control-Request-Headers: content-type, x-token\r\n\r\n";
  const Request req = parse(buf);
  ASSERT_TRUE(Cors::is_preflight(req));
  Cors::HeaderArray hs;
  const Response r = c.preflight(req, hs);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(find(r, "Access-Control-Allow-Origin"), "http://a.example");
  EXPECT_EQ(find(r, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(find(r, "Access-Control-Allow-Headers"), "content-type, x-token");
  EXPECT_EQ(find(r, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(find(r, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(find(r, "Vary"), "Origin");
}

TEST(Cors, PreflightForOtherOriginIs403WithoutHeaders) {
  Cors c(CorsOptions{{"http://a.example"}});
  const std::string buf =
      "OPTIONS / HTTP/1.1\r\nHost: s\r\nOrigin: http://evil.example\r\n"
      "Access-Control-Request-Method: POST\r\n\r\n";
  Cors::HeaderArray hs;
  const Response r = c.preflight(parse(buf), hs);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.headers.empty());
}

TEST(Cors, RequestedHeadersAreEchoedOnlyWhenPlainAndBounded) {
  CorsOptions o{{"http://a.example"}};
  o.max_echoed_headers_bytes = 16;
  Cors c(o);
  Cors::HeaderArray hs;
  const std::string too_long =
      "OPTIONS / HTTP/1.1\r\nHost: s\r\nOrigin: http://a.example\r\n"
      "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: " +
      std::string(17, 'a') + "\r\n\r\n";
  EXPECT_EQ(find(c.preflight(parse(too_long), hs), "Access-Control-Allow-Headers"), "<none>");
  const std::string odd =
      "OPTIONS / HTTP/1.1\r\nHost: s\r\nOrigin: http://a.example\r\n"
      "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: a;b\r\n\r\n";
  EXPECT_EQ(find(c.preflight(parse(odd), hs), "Access-Control-Allow-Headers"), "<none>");
}

TEST(Cors, NotAPreflight) {
  const std::string plain = "OPTIONS / HTTP/1.1\r\nHost: s\r\nOrigin: http://a\r\n\r\n";
  EXPECT_FALSE(Cors::is_preflight(parse(plain)));
  const std::string get =
      "GET / HTTP/1.1\r\nHost: s\r\nOrigin: http://a\r\nAccess-Control-Request-Method: GET\r\n\r\n";
  EXPECT_FALSE(Cors::is_preflight(parse(get)));
}

}  // namespace
}  // namespace sb::http
