#include "http/response.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "http/status.h"

namespace sb::http {
namespace {

// The Date line changes every second; tests compare everything around it.
std::string without_date(std::string s) {
  const size_t d = s.find("Date: ");
  if (d != std::string::npos) s.erase(d, s.find("\r\n", d) + 2 - d);
  return s;
}

TEST(Response, SerializesStatusLengthAndBody) {
  const std::string s = serialize_response(text_response(200, "ok"));
  EXPECT_EQ(
      without_date(s),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_NE(s.find("Date: "), std::string::npos);
}

TEST(Response, HeadSizeIsExact) {
  const std::array<Header, 2> hs = {{{"ETag", "W/\"1-2\""}, {"X-A", ""}}};
  const std::array<Header, 1> extra = {{{"Vary", "Origin"}}};
  for (uint16_t code : {100, 101, 200, 204, 304, 404, 431, 505, 599}) {
    for (bool close : {false, true}) {
      Response r{code, "text/html", "<p>hi</p>", hs, std::nullopt};
      Framing f{close, !close, false, extra};
      std::string buf(serialized_head_size(r, f) + 16, '#');
      const size_t n = serialize_head(r, f, buf.data());
      EXPECT_EQ(n, serialized_head_size(r, f)) << code;
      EXPECT_EQ(buf.substr(n), std::string(16, '#'));
      EXPECT_EQ(buf.substr(n - 4, 4), "\r\n\r\n");
    }
  }
}

TEST(Response, ConnectionHeaders) {
  EXPECT_EQ(without_date(
                serialize_response(Response{204, {}, {}, {}, {}}, Framing{true, false, false, {}})),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  Framing ka;
  ka.keep_alive_header = true;
  EXPECT_EQ(without_date(serialize_response(Response{200, {}, "x", {}, {}}, ka)),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nx");
}

TEST(Response, HeadOnlyKeepsTheLengthAndDropsTheBody) {
  Framing f;
  f.head_only = true;
  EXPECT_EQ(without_date(serialize_response(Response{200, {}, "hello", {}, {}}, f)),
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  // Static files announce the size without loading the file.
  EXPECT_EQ(without_date(serialize_response(Response{200, {}, {}, {}, 123456}, f)),
            "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n");
}

TEST(Response, NoBodyStatusesHaveNoLength) {
  EXPECT_EQ(without_date(serialize_response(Response{304, {}, "ignored", {}, {}})),
            "HTTP/1.1 304 Not Modified\r\n\r\n");
  EXPECT_EQ(without_date(serialize_response(Response{101, {}, {}, {}, {}})),
            "HTTP/1.1 101 Switching Protocols\r\n\r\n");
}

TEST(Response, HttpDate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date_now().size(), 29u);
}

TEST(Status, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(799), "Unknown");
  EXPECT_TRUE(status_has_no_body(204));
  EXPECT_TRUE(status_has_no_body(304));
  EXPECT_TRUE(status_has_no_body(101));
  EXPECT_FALSE(status_has_no_body(200));
}

}  // namespace
}  // namespace sb::http
