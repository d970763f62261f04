// The request parser, sans-I/O: every bad input with its specified status, every valid input at
// every split point, limits at and one past the boundary.

#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sb::http {
namespace {

// A comparable copy of a parse outcome (the Request's views die with the input buffer).
struct Outcome {
  ParseStatus status = ParseStatus::kNeedMore;
  uint16_t code = 0;
  std::string method, target, path, query;
  int minor = -1;
  bool keep_alive = false, upgrade = false;
  std::optional<uint64_t> content_length;
  size_t head_size = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{status=" << static_cast<int>(o.status) << " code=" << o.code << " " << o.method
            << " " << o.target << " head=" << o.head_size << " headers=" << o.headers.size() << "}";
}

Outcome snapshot(const ParseResult& r, const Request& req) {
  Outcome o;
  o.status = r.status;
  o.code = r.http_status;
  if (!r.complete()) return o;
  o.method = std::string(method_name(req.method));
  o.target = req.target;
  o.path = req.path;
  o.query = req.query;
  o.minor = req.version_minor;
  o.keep_alive = req.keep_alive;
  o.upgrade = req.upgrade;
  o.content_length = req.content_length;
  o.head_size = req.head_size;
  for (const Header& h : req.headers())
    o.headers.emplace_back(h.name, h.value);
  return o;
}

Outcome parse_once(std::string_view in, ParserLimits lim = {}) {
  RequestParser p(lim);
  Request req;
  return snapshot(p.parse(in, req), req);
}

// First call with in[0, k), then everything; each call gets a fresh copy so stale views from an
// earlier buffer would be caught (ASan, or garbage in the snapshot).
Outcome parse_split(std::string_view in, size_t k, ParserLimits lim = {}) {
  RequestParser p(lim);
  Request req;
  std::string first(in.substr(0, k));
  ParseResult r = p.parse(first, req);
  if (r.status != ParseStatus::kNeedMore) return snapshot(r, req);
  std::string all(in);
  r = p.parse(all, req);
  return snapshot(r, req);
}

// One byte more per call, like a slowloris client.
Outcome parse_trickle(std::string_view in, ParserLimits lim = {}) {
  RequestParser p(lim);
  Request req;
  for (size_t n = 1; n <= in.size(); ++n) {
    std::string prefix(in.substr(0, n));
    ParseResult r = p.parse(prefix, req);
    if (r.status != ParseStatus::kNeedMore) return snapshot(r, req);
  }
  return Outcome{};
}

void expect_split_invariant(std::string_view in, ParserLimits lim = {}) {
  const Outcome whole = parse_once(in, lim);
  for (size_t k = 0; k <= in.size(); ++k) {
    ASSERT_EQ(parse_split(in, k, lim), whole) << "split at " << k << " of: " << in;
  }
  ASSERT_EQ(parse_trickle(in, lim), whole) << in;
}

uint16_t status_of(std::string_view in, ParserLimits lim = {}) {
  const Outcome o = parse_once(in, lim);
  return o.status == ParseStatus::kComplete ? 200 : o.code;
}

const std::string kBrowserGet =
    "GET /socket.io/?EIO=4&transport=polling&t=OqX1b2c HTTP/1.1\r\n"
    "Host: localhost:3000\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"8\"\r\n"
    "Accept: */*\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Referer: http://localhost:3000/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: io=abc123\r\n"
    "\r\n";

const std::string kPollingPost =
    "POST /socket.io/?EIO=4&transport=polling&sid=Xy12ab HTTP/1.1\r\n"
    "Host: localhost:3000\r\n"
    "Content-Type: text/plain;charset=UTF-8\r\n"
    "Content-Length: 27\r\n"
    "Origin: http://localhost:3000\r\n"
    "\r\n"
    "42[\"chat\",\"hello everyone\"]";

TEST(RequestParser, BrowserGet) {
  const Outcome o = parse_once(kBrowserGet);
  ASSERT_EQ(o.status, ParseStatus::kComplete);
  EXPECT_EQ(o.method, "GET");
  EXPECT_EQ(o.path, "/socket.io/");
  EXPECT_EQ(o.query, "EIO=4&transport=polling&t=OqX1b2c");
  EXPECT_EQ(o.minor, 1);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_FALSE(o.upgrade);
  EXPECT_EQ(o.head_size, kBrowserGet.size());
  EXPECT_EQ(o.headers.size(), 14u);
  EXPECT_EQ(o.headers[0], (std::pair<std::string, std::string>{"Host", "localhost:3000"}));
  EXPECT_FALSE(o.content_length.has_value());
}

TEST(RequestParser, PostHeadStopsBeforeBody) {
  const Outcome o = parse_once(kPollingPost);
  ASSERT_EQ(o.status, ParseStatus::kComplete);
  EXPECT_EQ(o.content_length, 27u);
  EXPECT_EQ(o.head_size, kPollingPost.size() - 27);
}

TEST(RequestParser, ValidRequestsAtEverySplit) {
  const std::vector<std::string> valid = {
      kBrowserGet,
      kPollingPost,
      "GET / HTTP/1.0\r\n\r\n",
      "GET /a?b=c HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: "
      "websocket\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET http://example.com/a/b?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "PUT /x HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Tabs: \t a \t b\t \r\nX-Obs: "
      "caf\xc3\xa9\r\n\r\n",
      "DELETE /x HTTP/1.1\r\nhOsT: x\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n",
  };
  for (const std::string& in : valid) {
    EXPECT_EQ(parse_once(in).status, ParseStatus::kComplete) << in;
    expect_split_invariant(in);
  }
}

TEST(RequestParser, FieldsOfUnusualForms) {
  Outcome o = parse_once("GET http://example.com/a/b?q=1 HTTP/1.1\r\nHost: e\r\n\r\n");
  EXPECT_EQ(o.path, "/a/b");
  EXPECT_EQ(o.query, "q=1");
  EXPECT_EQ(o.target, "http://example.com/a/b?q=1");
  o = parse_once("GET HTTPS://example.com?x HTTP/1.1\r\nHost: e\r\n\r\n");
  EXPECT_EQ(o.path, "/");
  EXPECT_EQ(o.query, "x");
  o = parse_once("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(o.head_size, 31u);  // leading empty lines are consumed with the head
  o = parse_once("PUT /x HTTP/1.1\r\nHost: x\r\nX-Tabs: \t a \t b\t \r\nX-Empty:\r\n\r\n");
  ASSERT_EQ(o.headers.size(), 3u);
  EXPECT_EQ(o.headers[1].second, "a \t b");
  EXPECT_EQ(o.headers[2].second, "");
}

TEST(RequestParser, KeepAliveRules) {
  EXPECT_TRUE(parse_once("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_once("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      parse_once("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_once("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_once("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_once("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_once("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\r\n").upgrade);
}

struct BadCase {
  std::string input;
  uint16_t status;
};

TEST(RequestParser, BadInputsHaveTheirStatusAtEverySplit) {
  const std::string h = "Host: x\r\n";
  const std::vector<BadCase> cases = {
      // line endings
      {"GET / HTTP/1.1\n" + h + "\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "\n", 400},
      {"\nGET / HTTP/1.1\r\n" + h + "\r\n", 400},
      // request line
      {"G@T / HTTP/1.1\r\n" + h + "\r\n", 400},
      {" GET / HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET  / HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET / HTTP/1.1 \r\n" + h + "\r\n", 400},
      {"GET /  HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET /\r\n" + h + "\r\n", 400},
      {"GET / \r\n" + h + "\r\n", 400},
      {"GET\r\n" + h + "\r\n", 400},
      {"GET / http/1.1\r\n" + h + "\r\n", 400},
      {"GET / HTTP/1\r\n" + h + "\r\n", 400},
      {"GET / HTTP/x.1\r\n" + h + "\r\n", 400},
      {"GET / HTTP/1.x\r\n" + h + "\r\n", 400},
      {"GET / HTTP/10.0\r\n" + h + "\r\n", 400},
      {"GET a/b HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET * HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET /a#b HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET /\x01 HTTP/1.1\r\n" + h + "\r\n", 400},
      {std::string("GET /\0 HTTP/1.1\r\n", 17) + h + "\r\n", 400},
      {"GET /caf\xc3\xa9 HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET ftp://x/ HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET http:/// HTTP/1.1\r\n" + h + "\r\n", 400},
      {"GET\t/ HTTP/1.1\r\n" + h + "\r\n", 400},
      // versions
      {"GET / HTTP/2.0\r\n" + h + "\r\n", 505},
      {"GET / HTTP/1.2\r\n" + h + "\r\n", 505},
      {"GET / HTTP/0.9\r\n" + h + "\r\n", 505},
      // methods: well-formed but unknown
      {"BREW / HTTP/1.1\r\n" + h + "\r\n", 405},
      {"get / HTTP/1.1\r\n" + h + "\r\n", 405},
      // header lines
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + ": x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "NoColon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: a\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: a\r\n\tfolded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: a\x01z\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: a\rz\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: a\x7fz\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + "X: 0123456789abcdef\x7f\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n" + h + std::string("X: a\0z\r\n\r\n", 10), 400},
      // framing
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n", 411},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 5\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: abc\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length:\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 0x10\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 18446744073709551616\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n", 400},
      // Host
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
  };
  for (const BadCase& c : cases) {
    EXPECT_EQ(status_of(c.input), c.status) << c.input;
    expect_split_invariant(c.input);
  }
}

TEST(RequestParser, ContentLengthEdgeValues) {
  Outcome o =
      parse_once("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n");
  EXPECT_EQ(o.content_length, UINT64_MAX);  // parses; the route limit answers 413
  o = parse_once("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n");
  EXPECT_EQ(o.content_length, 7u);
  o = parse_once("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  12 \r\n\r\n");
  EXPECT_EQ(o.content_length, 12u);
}

TEST(RequestParser, NeedMoreUntilTheHeadEnds) {
  RequestParser p;
  Request req;
  EXPECT_EQ(p.parse(std::string_view(""), req).status, ParseStatus::kNeedMore);
  EXPECT_EQ(p.parse(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r"), req).status,
            ParseStatus::kNeedMore);
  EXPECT_EQ(p.parse(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), req).status,
            ParseStatus::kComplete);
}

// A head of exactly `size` bytes (request line + Host + padding header).
std::string head_of_size(size_t size) {
  std::string start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
  const size_t fixed = start.size() + 4;  // "\r\n\r\n"
  return start + std::string(size - fixed, 'a') + "\r\n\r\n";
}

TEST(RequestParser, HeaderBytesLimitAtAndPastTheBoundary) {
  for (size_t limit : {size_t{128}, size_t{16384}}) {
    ParserLimits lim{limit, 100};
    const std::string at = head_of_size(limit);
    const std::string past = head_of_size(limit + 1);
    ASSERT_EQ(at.size(), limit);
    EXPECT_EQ(status_of(at, lim), 200);
    EXPECT_EQ(status_of(past, lim), 431);
    if (limit == 128) {
      expect_split_invariant(at, lim);
      expect_split_invariant(past, lim);
    }
  }
  // The default is 16 KiB.
  EXPECT_EQ(status_of(head_of_size(16384)), 200);
  EXPECT_EQ(status_of(head_of_size(16385)), 431);
  // An endless header line is refused as soon as it passes the limit, without its end.
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a')), 431);
}

TEST(RequestParser, RequestLineTooLongIs414) {
  ParserLimits lim{128, 100};
  const std::string line = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(status_of(line, lim), 414);
  EXPECT_EQ(status_of(line.substr(0, 150), lim), 414);  // no line end yet
  expect_split_invariant(line, lim);
}

std::string with_headers(size_t n) {
  std::string s = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (size_t i = 1; i < n; ++i)
    s += "X-" + std::to_string(i) + ": v\r\n";
  return s + "\r\n";
}

TEST(RequestParser, HeaderCountLimitAtAndPastTheBoundary) {
  EXPECT_EQ(status_of(with_headers(100)), 200);
  EXPECT_EQ(status_of(with_headers(101)), 431);
  ParserLimits lim{16384, 5};
  EXPECT_EQ(status_of(with_headers(5), lim), 200);
  EXPECT_EQ(status_of(with_headers(6), lim), 431);
  expect_split_invariant(with_headers(6), lim);
  // A configured limit above the storage capacity is clamped to it.
  ParserLimits big{1 << 20, 1000};
  EXPECT_EQ(RequestParser(big).limits().max_headers, kMaxHeadersCapacity);
  EXPECT_EQ(status_of(with_headers(kMaxHeadersCapacity), big), 200);
  EXPECT_EQ(status_of(with_headers(kMaxHeadersCapacity + 1), big), 431);
}

// Pipelined requests: the caller consumes head_size (+ body) and parses the rest; every split of
// the byte stream gives the same sequence of outcomes.
std::vector<Outcome> parse_stream(std::string_view stream, size_t split) {
  std::vector<Outcome> out;
  RequestParser p;
  Request req;
  std::string pending;
  bool failed = false;  // after an error the connection is closed: nothing more is parsed
  auto feed = [&](std::string_view chunk) {
    if (failed) return;
    pending.append(chunk);
    for (;;) {
      std::string copy = pending;  // fresh buffer per call
      ParseResult r = p.parse(copy, req);
      if (r.status == ParseStatus::kNeedMore) return;
      if (r.error()) {
        out.push_back(snapshot(r, req));
        failed = true;
        return;
      }
      const size_t body = static_cast<size_t>(req.content_length.value_or(0));
      if (pending.size() < req.head_size + body) return;  // wait for the body, re-parse then
      out.push_back(snapshot(r, req));
      pending.erase(0, req.head_size + body);
    }
  };
  feed(stream.substr(0, split));
  feed(stream.substr(split));
  return out;
}

TEST(RequestParser, PipelinedPairsAtEverySplit) {
  const std::vector<std::string> streams = {
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
      kBrowserGet + kBrowserGet,
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /q HTTP/1.0\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost : x\r\n\r\n",
  };
  for (const std::string& s : streams) {
    const auto whole = parse_stream(s, s.size());
    ASSERT_EQ(whole.size(), 2u) << s;
    for (size_t k = 0; k <= s.size(); ++k)
      ASSERT_EQ(parse_stream(s, k), whole) << s << " @" << k;
  }
}

TEST(RequestParser, ResetForgetsProgress) {
  RequestParser p;
  Request req;
  EXPECT_EQ(p.parse(std::string_view("GET /a HTTP/1.1\r\nHost"), req).status,
            ParseStatus::kNeedMore);
  p.reset();
  const std::string other = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(p.parse(other, req).complete());
  EXPECT_EQ(req.path, "/b");
}

}  // namespace
}  // namespace sb::http
