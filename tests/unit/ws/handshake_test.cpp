#include "ws/handshake.h"
#include "ws/upgrade.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace sb::ws {
namespace {

using HeaderList = std::initializer_list<std::pair<std::string_view, std::string_view>>;

http::Request make_request(HeaderList headers, http::Method method = http::Method::kGet,
                           uint8_t minor = 1) {
  http::Request r;
  r.method = method;
  r.version_minor = minor;
  r.target = r.path = "/socket.io/";
  for (const auto& [name, value] : headers)
    r.header_storage[r.header_count++] = {name, value};
  return r;
}

const HeaderList kGood = {{"Host", "server.example.com"},
                          {"Upgrade", "websocket"},
                          {"Connection", "Upgrade"},
                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                          {"Sec-WebSocket-Version", "13"}};

// kGood with one header replaced (value empty string_view = header removed) or added.
http::Request variant(std::string_view name, std::optional<std::string_view> value) {
  http::Request r = make_request({});
  bool replaced = false;
  for (const auto& [n, v] : kGood) {
    if (http::iequals(n, name)) {
      replaced = true;
      if (value) r.header_storage[r.header_count++] = {n, *value};
    } else {
      r.header_storage[r.header_count++] = {n, v};
    }
  }
  if (!replaced && value) r.header_storage[r.header_count++] = {name, *value};
  return r;
}

TEST(Handshake, Rfc6455SampleKey) {
  const auto accept = compute_accept("dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(std::string_view(accept.data(), accept.size()), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, SuccessResponse) {
  const HandshakeOutcome o = validate_upgrade(make_request(kGood), {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_FALSE(o.deflate);
}

TEST(Handshake, TokensAreCaseInsensitiveAndListed) {
  auto r = make_request({{"Host", "h"},
                         {"upgrade", "WebSocket"},
                         {"connection", "keep-alive, UPGRADE"},
                         {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
                         {"sec-websocket-version", "13"}});
  EXPECT_TRUE(validate_upgrade(r, {}).ok());
}

TEST(Handshake, NegotiatesDeflateAndAddsExtraHeaders) {
  auto r = variant("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  HandshakeOptions opts;
  opts.extra_headers = "Set-Cookie: io=abc\r\n";
  const HandshakeOutcome o = validate_upgrade(r, opts);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(o.deflate);
  EXPECT_TRUE(o.deflate->server_no_context_takeover);
  EXPECT_NE(o.response.find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                            "server_no_context_takeover\r\n"),
            std::string::npos);
  EXPECT_NE(o.response.find("\r\nSet-Cookie: io=abc\r\n\r\n"), std::string::npos);
  opts.deflate.enabled = false;
  EXPECT_FALSE(validate_upgrade(r, opts).deflate);
}

TEST(Handshake, ExtensionsSplitOverSeveralHeaderLines) {
  http::Request r = variant("Sec-WebSocket-Extensions", "x-unknown");
  r.header_storage[r.header_count++] = {"Sec-WebSocket-Extensions", "permessage-deflate"};
  EXPECT_TRUE(validate_upgrade(r, {}).deflate);
}

TEST(Handshake, MalformedRequests) {
  struct Case {
    const char* what;
    http::Request req;
    int status;
  };
  const Case cases[] = {
      {"POST", make_request(kGood, http::Method::kPost), 400},
      {"HTTP/1.0", make_request(kGood, http::Method::kGet, 0), 400},
      {"no Host", variant("Host", std::nullopt), 400},
      {"no Upgrade", variant("Upgrade", std::nullopt), 400},
      {"Upgrade: h2c", variant("Upgrade", "h2c"), 400},
      {"no Connection", variant("Connection", std::nullopt), 400},
      {"Connection: keep-alive", variant("Connection", "keep-alive"), 400},
      {"no key", variant("Sec-WebSocket-Key", std::nullopt), 400},
      {"key not base64", variant("Sec-WebSocket-Key", "not base64 at all!!!!!!!"), 400},
      {"key 15 bytes", variant("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j"), 400},
      {"key 17 bytes", variant("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZXg="), 400},
      {"key empty", variant("Sec-WebSocket-Key", ""), 400},
      {"no version", variant("Sec-WebSocket-Version", std::nullopt), 426},
      {"version 8", variant("Sec-WebSocket-Version", "8"), 426},
      {"version 13 padded", variant("Sec-WebSocket-Version", "13, 8"), 426},
  };
  for (const Case& c : cases) {
    const HandshakeOutcome o = validate_upgrade(c.req, {});
    EXPECT_EQ(o.status, c.status) << c.what;
    EXPECT_FALSE(o.reason.empty()) << c.what;
    EXPECT_NE(o.response.find("\r\nConnection: close\r\n"), std::string::npos) << c.what;
    EXPECT_TRUE(o.response.ends_with("\r\n\r\n" + std::string(o.reason))) << c.what;
    EXPECT_NE(o.response.find("Content-Length: " + std::to_string(o.reason.size())),
              std::string::npos);
    EXPECT_EQ(o.response.find("Sec-WebSocket-Version: 13") != std::string::npos, c.status == 426)
        << c.what;
  }
}

TEST(Handshake, OriginPredicate) {
  HandshakeOptions opts;
  opts.allow_origin = [](std::string_view origin) { return origin == "https://good.example"; };
  EXPECT_TRUE(validate_upgrade(variant("Origin", "https://good.example"), opts).ok());
  const HandshakeOutcome bad = validate_upgrade(variant("Origin", "https://evil.example"), opts);
  EXPECT_EQ(bad.status, 403);
  EXPECT_TRUE(bad.response.starts_with("HTTP/1.1 403 Forbidden\r\n"));
  // No Origin: non-browser client, allowed.
  EXPECT_TRUE(validate_upgrade(make_request(kGood), opts).ok());
  // No predicate: every origin allowed.
  EXPECT_TRUE(validate_upgrade(variant("Origin", "https://evil.example"), {}).ok());
}

}  // namespace
}  // namespace sb::ws

namespace sb::ws {
namespace {

TEST(SameOrigin, MatchesSchemeLessHostAndPort) {
  EXPECT_TRUE(same_origin("http://127.0.0.1:3000", "127.0.0.1:3000"));
  EXPECT_TRUE(same_origin("https://Example.COM", "example.com"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:3001", "127.0.0.1:3000"));
  EXPECT_FALSE(same_origin("http://evil.example", "127.0.0.1:3000"));
  EXPECT_FALSE(same_origin("null", "127.0.0.1:3000"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:3000", ""));
  EXPECT_FALSE(same_origin("ftp://127.0.0.1:3000", "127.0.0.1:3000"));
}

}  // namespace
}  // namespace sb::ws
