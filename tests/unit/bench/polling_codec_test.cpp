#include "bench/polling_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/request.h"
#include "http/request_parser.h"
#include "http/response.h"

namespace sb::bench {
namespace {

constexpr size_t kMax = 1 << 20;

// What Node.js engine.io answers to a long poll (headers as node:http writes them).
constexpr std::string_view kNodePoll =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Length: 26\r\n"
    "cache-control: no-store\r\n"
    "Date: Sat, 28 Nov 2026 09:00:00 GMT\r\n"
    "Connection: keep-alive\r\n"
    "Keep-Alive: timeout=5\r\n"
    "\r\n"
    "42[\"m\",\"x\"]\x1e"
    "2\x1e"
    "42[\"m\",\"yy\"]";

TEST(PollingCodec, ParsesAResponseAtEverySplit) {
  for (size_t n = 0; n < kNodePoll.size(); ++n) {
    const HttpResponse r = parse_http_response(kNodePoll.substr(0, n), kMax);
    ASSERT_EQ(r.status, HttpParseStatus::kNeedMore) << "prefix " << n;
  }
  const HttpResponse r = parse_http_response(kNodePoll, kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.code, 200);
  EXPECT_FALSE(r.close);
  EXPECT_EQ(r.size, kNodePoll.size());
  EXPECT_EQ(r.body, std::string_view("42[\"m\",\"x\"]\x1e"
                                     "2\x1e"
                                     "42[\"m\",\"yy\"]"));
}

TEST(PollingCodec, PipelinedResponsesOneAtATime) {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const std::string both = ok + std::string(kNodePoll);
  HttpResponse r = parse_http_response(both, kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.size, ok.size());
  r = parse_http_response(std::string_view(both).substr(r.size), kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.size, kNodePoll.size());
}

// Our own server's response writer (src/http) produces what the client parses.
TEST(PollingCodec, ParsesOurServersResponses) {
  http::Response res{200, "text/plain; charset=UTF-8", "6", {}, std::nullopt};
  std::string wire = http::serialize_response(res);
  HttpResponse r = parse_http_response(wire, kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.body, "6");
  EXPECT_FALSE(r.close);
  http::Framing closing;
  closing.close = true;
  wire = http::serialize_response(http::text_response(400, "bad"), closing);
  r = parse_http_response(wire, kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.code, 400);
  EXPECT_TRUE(r.close);
  EXPECT_EQ(r.body, "bad");
}

TEST(PollingCodec, ConnectionSemantics) {
  auto close_of = [](const std::string& head) {
    const HttpResponse r = parse_http_response(head + "\r\n", kMax);
    EXPECT_EQ(r.status, HttpParseStatus::kComplete) << head;
    return r.close;
  };
  EXPECT_FALSE(close_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"));
  EXPECT_TRUE(close_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: Close\r\n"));
  EXPECT_TRUE(close_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nconnection: foo, close\r\n"));
  EXPECT_TRUE(close_of("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"));
  EXPECT_FALSE(close_of("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"));
  // No body by definition, whatever the headers say.
  const HttpResponse r = parse_http_response("HTTP/1.1 204 No Content\r\n\r\nextra", kMax);
  ASSERT_EQ(r.status, HttpParseStatus::kComplete);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.size, 27U);
  // A status line without a reason phrase is valid.
  EXPECT_EQ(parse_http_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", kMax).status,
            HttpParseStatus::kComplete);
}

TEST(PollingCodec, RefusesWhatItCannotFrame) {
  struct Case {
    std::string wire;
    std::string_view error;
  };
  const std::vector<Case> cases = {
      {"HTTP/2 200 OK\r\n\r\n", "bad status line"},
      {"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "bad status line"},
      {"HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n", "bad status line"},
      {"ICY 200 OK\r\n\r\n", "bad status line"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
       "chunked responses are not supported"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
       "compressed responses are not supported"},
      {"HTTP/1.1 200 OK\r\n\r\nbody until close", "response without Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
       "conflicting Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n", "bad header line"},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n", "bad header line"},
      {"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n", "bad header line"},
      {"HTTP/1.1 100 Continue\r\n\r\n", "interim (1xx) responses are not supported"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n", "response body too large"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = parse_http_response(c.wire, kMax);
    EXPECT_EQ(r.status, HttpParseStatus::kError) << c.wire;
    EXPECT_EQ(r.error, c.error) << c.wire;
  }
  // Identical duplicates are harmless.
  EXPECT_EQ(parse_http_response(
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx", kMax)
                .status,
            HttpParseStatus::kComplete);
}

TEST(PollingCodec, HeadIsBounded) {
  std::string head = "HTTP/1.1 200 OK\r\nX-Filler: ";
  head.append(kMaxResponseHeadBytes, 'a');
  // No end of head in sight and already over the limit: an error, not an endless wait.
  HttpResponse r = parse_http_response(head, kMax);
  EXPECT_EQ(r.status, HttpParseStatus::kError);
  EXPECT_EQ(r.error, "response head too large");
  head += "\r\nContent-Length: 0\r\n\r\n";
  r = parse_http_response(head, kMax);
  EXPECT_EQ(r.status, HttpParseStatus::kError);
  // Below the limit, an unfinished head just needs more.
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nContent-Le", kMax).status,
            HttpParseStatus::kNeedMore);
}

std::vector<std::string> packets_of(std::string_view body) {
  std::vector<std::string> out;
  PayloadReader reader(body);
  std::string_view p;
  while (reader.next(p))
    out.emplace_back(p);
  return out;
}

TEST(PollingCodec, PayloadReader) {
  EXPECT_EQ(packets_of(""), std::vector<std::string>{});
  EXPECT_EQ(packets_of("6"), std::vector<std::string>{"6"});
  EXPECT_EQ(packets_of("40{\"sid\":\"a\"}\x1e"
                       "42[\"m\",\"x\"]"),
            (std::vector<std::string>{"40{\"sid\":\"a\"}", "42[\"m\",\"x\"]"}));
  // Empty packets are returned as such: the caller treats them as malformed.
  EXPECT_EQ(packets_of("2\x1e"), (std::vector<std::string>{"2", ""}));
  EXPECT_EQ(packets_of("\x1e\x1e"), (std::vector<std::string>{"", "", ""}));
}

TEST(PollingCodec, OpenPacket) {
  // Node.js engine.io's open packet (and ours: same keys, same order).
  auto p = parse_open_packet(
      R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,)"
      R"("pingTimeout":20000,"maxPayload":1000000})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sid, "lv_VI97HAXpY6yYWAAAC");
  EXPECT_EQ(p->ping_interval_ms, 25000U);
  EXPECT_EQ(p->ping_timeout_ms, 20000U);
  p = parse_open_packet(R"({ "sid" : "abc", "pingInterval": 300, "pingTimeout": 200 })");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sid, "abc");
  EXPECT_EQ(p->ping_interval_ms, 300U);
  EXPECT_EQ(p->ping_timeout_ms, 200U);
  p = parse_open_packet(R"({"sid":"abc"})");  // defaults when absent
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ping_interval_ms, 25000U);
  EXPECT_FALSE(parse_open_packet(R"({"upgrades":[]})"));
  EXPECT_FALSE(parse_open_packet(R"({"sid":""})"));
  EXPECT_FALSE(parse_open_packet(R"({"sid":"a b"})"));
  EXPECT_FALSE(parse_open_packet(R"({"sid":"a&x=1"})"));
  EXPECT_FALSE(parse_open_packet(R"({"sid":"abc)"));
  EXPECT_FALSE(parse_open_packet(R"({"sid":123})"));
  EXPECT_FALSE(parse_open_packet(R"({"sid")"));
  EXPECT_FALSE(parse_open_packet("{\"sid\":\"" + std::string(65, 'a') + "\"}"));
  EXPECT_TRUE(parse_open_packet("{\"sid\":\"" + std::string(64, 'a') + "\"}"));
  // Every truncation of a valid packet is refused or parsed, never read past.
  const std::string full = R"({"sid":"abc","pingInterval":25000,"pingTimeout":20000})";
  for (size_t n = 0; n <= full.size(); ++n)
    (void)parse_open_packet(std::string_view(full).substr(0, n));
}

// The requests we write are what our own strict request parser accepts.
TEST(PollingCodec, RequestsAreValidHttp) {
  std::string get;
  append_poll_request(get, "/socket.io/?EIO=4&transport=polling&sid=abc", "127.0.0.1:3000");
  EXPECT_EQ(get,
            "GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n"
            "Accept: */*\r\n\r\n");
  http::RequestParser parser;
  http::Request req;
  auto r = parser.parse(get, req);
  ASSERT_TRUE(r.complete());
  EXPECT_EQ(req.method, http::Method::kGet);
  EXPECT_EQ(req.query, "EIO=4&transport=polling&sid=abc");
  EXPECT_TRUE(req.keep_alive);

  std::string post;
  const std::string body =
      "42[\"b\",\"x\"]\x1e"
      "3";
  append_post_request(post, "/socket.io/?EIO=4&transport=polling&sid=abc", "h:1", body);
  http::RequestParser parser2;
  http::Request req2;
  r = parser2.parse(post, req2);
  ASSERT_TRUE(r.complete());
  EXPECT_EQ(req2.method, http::Method::kPost);
  ASSERT_TRUE(req2.content_length);
  EXPECT_EQ(*req2.content_length, body.size());
  EXPECT_EQ(post.substr(req2.head_size), body);
  EXPECT_EQ(req2.header("Content-Type"), "text/plain;charset=UTF-8");
}

}  // namespace
}  // namespace sb::bench
