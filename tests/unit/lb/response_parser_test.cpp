// The backend-side response parser and chunked-body scanner, sans-I/O: valid heads at every split
// point (fed the way the proxy feeds it: everything unconsumed, growing), every refused input with
// its reason, body framing rules, and chunked bodies fed in every split.

#include "lb/response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::lb {
namespace {

ResponseParse parse_all(const std::string& s, ResponseHead& h) {
  ResponseParser p;
  return p.parse(s, h);
}

TEST(ResponseParser, ParsesAHeadAtEverySplit) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello";
  const size_t head = resp.find("\r\n\r\n") + 4;
  for (size_t split = 0; split <= resp.size(); ++split) {
    ResponseParser p;
    ResponseHead h;
    // The head's views point into the parsed bytes: keep them alive for the checks below.
    const std::string prefix = resp.substr(0, split);
    ResponseParse r = p.parse(prefix, h);
    if (split < head) {
      EXPECT_EQ(r.status, ResponseStatus::kNeedMore) << split;
      r = p.parse(resp, h);
    }
    ASSERT_EQ(r.status, ResponseStatus::kComplete) << split;
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.head_size, head);
    EXPECT_EQ(h.content_length, 5U);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_EQ(h.header("x-a"), "b");
    EXPECT_EQ(h.body_kind(false), BodyKind::kLength);
  }
}

TEST(ResponseParser, TrickledOneByteAtATime) {
  const std::string resp = "HTTP/1.1 204 No Content\r\nA: 1\r\n\r\n";
  ResponseParser p;
  ResponseHead h;
  for (size_t n = 1; n < resp.size(); ++n) {
    ASSERT_EQ(p.parse(resp.substr(0, n), h).status, ResponseStatus::kNeedMore) << n;
  }
  ASSERT_EQ(p.parse(resp, h).status, ResponseStatus::kComplete);
  EXPECT_EQ(h.body_kind(false), BodyKind::kNone);
}

TEST(ResponseParser, BodyFraming) {
  ResponseHead h;
  ASSERT_EQ(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_EQ(h.body_kind(false), BodyKind::kChunked);
  EXPECT_EQ(h.body_kind(true), BodyKind::kNone);  // HEAD: never a body
  ASSERT_EQ(parse_all("HTTP/1.1 200 OK\r\n\r\n", h).status, ResponseStatus::kComplete);
  EXPECT_EQ(h.body_kind(false), BodyKind::kUntilClose);
  ASSERT_EQ(parse_all("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_EQ(h.body_kind(false), BodyKind::kNone);
  ASSERT_EQ(parse_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_EQ(h.status, 101);
  EXPECT_EQ(h.body_kind(false), BodyKind::kNone);
  ASSERT_EQ(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_EQ(h.body_kind(false), BodyKind::kNone);
}

TEST(ResponseParser, KeepAliveRules) {
  ResponseHead h;
  ASSERT_EQ(parse_all("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_FALSE(h.keep_alive);
  ASSERT_EQ(parse_all("HTTP/1.0 200 OK\r\n\r\n", h).status, ResponseStatus::kComplete);
  EXPECT_FALSE(h.keep_alive);
  ASSERT_EQ(parse_all("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  EXPECT_TRUE(h.keep_alive);
  ASSERT_EQ(parse_all("HTTP/1.1 200\r\n\r\n", h).status, ResponseStatus::kComplete);  // no reason
  EXPECT_TRUE(h.keep_alive);
}

TEST(ResponseParser, RefusesWhatItCannotFrameSafely) {
  const char* bad[] = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
  };
  for (const char* b : bad) {
    ResponseHead h;
    EXPECT_EQ(parse_all(b, h).status, ResponseStatus::kError) << b;
  }
  ResponseHead h;  // the same length twice is fine
  EXPECT_EQ(
      parse_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", h).status,
      ResponseStatus::kComplete);
}

TEST(ResponseParser, Limits) {
  ResponseLimits lim;
  lim.max_header_bytes = 64;
  lim.max_headers = 2;
  ResponseParser p(lim);
  ResponseHead h;
  EXPECT_EQ(p.parse(std::string("HTTP/1.1 200 OK\r\nA: ") + std::string(80, 'a'), h).status,
            ResponseStatus::kError);
  ResponseParser p2(lim);
  EXPECT_EQ(p2.parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", h).status,
            ResponseStatus::kComplete);
  ResponseParser p3(lim);
  EXPECT_EQ(p3.parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", h).status,
            ResponseStatus::kError);
}

// Feeds `body` (then `tail`) split at every pair of points; the scanner must stop exactly at the
// end of the chunked body.
void expect_chunked(const std::string& body) {
  const std::string input = body + "NEXT";
  for (size_t a = 0; a <= input.size(); ++a) {
    for (size_t b = a; b <= input.size(); b += 3) {
      ChunkedScanner s;
      size_t consumed = 0;
      for (auto piece : {input.substr(0, a), input.substr(a, b - a), input.substr(b)}) {
        if (s.done()) break;
        const ChunkedScanner::Step st = s.feed(piece);
        ASSERT_FALSE(st.error) << a << "," << b;
        consumed += st.consumed;
      }
      ASSERT_TRUE(s.done()) << a << "," << b;
      ASSERT_EQ(consumed, body.size()) << a << "," << b;
    }
  }
}

TEST(ChunkedScanner, FindsTheEndAtEverySplit) {
  expect_chunked("5\r\nhello\r\n0\r\n\r\n");
  expect_chunked("A;ext=1\r\n0123456789\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n");
  expect_chunked("0\r\n\r\n");
}

TEST(ChunkedScanner, RefusesBadFraming) {
  for (const char* bad :
       {"x\r\n", "5\r\nhelloXX", "5\nhello", "\r\n", "12345678901234567\r\n", "0\r\nTrailer\n"}) {
    ChunkedScanner s;
    EXPECT_TRUE(s.feed(bad).error) << bad;
  }
}

// Arbitrary bytes (from a fixed-seed generator, mutating a valid response) never crash either
// parser and never make it claim more than it was given.
TEST(ResponseParser, SurvivesMutatedInput) {
  const std::string base =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = base;
    for (int k = 0; k < 3; ++k)
      s[next() % s.size()] = static_cast<char>(next() & 0xff);
    ResponseParser p;
    ResponseHead h;
    const ResponseParse r = p.parse(s, h);
    if (r.status == ResponseStatus::kComplete) {
      ASSERT_LE(h.head_size, s.size());
      ChunkedScanner c;
      const ChunkedScanner::Step st = c.feed(std::string_view(s).substr(h.head_size));
      ASSERT_LE(st.consumed, s.size() - h.head_size);
    }
  }
}

}  // namespace
}  // namespace sb::lb
