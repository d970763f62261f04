// The HTTP session end to end: a real loop, a socketpair, a blocking client.

#include "http/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "http/status.h"
#include "http_harness.h"

namespace sb::http {
namespace {

using testing::Harness;

// Echoes what it receives: stands in for the WebSocket handler after an upgrade.
class EchoHandler : public net::ConnectionHandler {
 public:
  size_t on_data(net::Connection& c, std::span<uint8_t> data) override {
    c.write(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    return data.size();
  }
};

// Loop-thread state of the deferred-response routes.
struct PollState {
  PendingResponse pending;
  int abandoned = 0;
};

ServerOptions small_options() {
  ServerOptions o;
  o.max_body_bytes = 64;
  return o;
}

void add_test_routes(HttpServer& s, PollState* poll) {
  Router& r = s.router();
  add_builtin_routes(r);
  r.add("/echo", {Method::kPost, Method::kPut},
        [](Exchange& ex) { ex.respond(200, "application/octet-stream", ex.body()); });
  r.add(
      "/small", {Method::kPost}, [](Exchange& ex) { ex.respond(200, kTextPlain, ex.body()); }, 10);
  r.add("/silent", kGetHead, [](Exchange&) {});
  r.add("/ws", kGetHead, [](Exchange& ex) {
    ex.upgrade(std::make_unique<EchoHandler>(), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  });
  r.add("/poll", kGetHead,
        [poll](Exchange& ex) { poll->pending = ex.defer([poll] { ++poll->abandoned; }); });
  r.add("/drop", kGetHead, [](Exchange& ex) { auto p = ex.defer(); });
}

struct Fixture {
  explicit Fixture(ServerOptions o = small_options()) : server(std::move(o)) {
    add_test_routes(server, &poll);
  }
  HttpServer server;
  PollState poll;
};

constexpr std::string_view kGetHealth = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(HttpServer, HealthzAndKeepAlive) {
  Fixture f;
  Harness h(f.server);
  for (int i = 0; i < 3; ++i) {
    h.send(kGetHealth);
    auto r = h.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(r->header("connection"), "<none>");
    EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r->header("date").size(), 29u);
  }
}

TEST(HttpServer, PipelinedRequestsAnsweredInOrder) {
  Fixture f;
  Harness h(f.server);
  h.send(std::string(kGetHealth) + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" +
         "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
         "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + std::string(kGetHealth));
  auto a = h.read_response();
  auto b = h.read_response();
  auto c = h.read_response();
  auto d = h.read_response(/*head_only=*/true);
  auto e = h.read_response();
  ASSERT_TRUE(a && b && c && d && e);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 404);
  EXPECT_EQ(c->status, 200);
  EXPECT_EQ(c->body, "hello");
  EXPECT_EQ(d->status, 200);
  EXPECT_EQ(d->header("content-length"), "2");
  EXPECT_EQ(e->body, "ok");
}

// The same pipelined byte stream split in two writes at every offset gives the same answers.
TEST(HttpServer, PipelinedPairWithBodiesAtEverySplit) {
  const std::string stream =
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
      "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
  Fixture f;
  for (size_t k = 1; k < stream.size(); ++k) {
    Harness h(f.server);
    h.send(stream.substr(0, k));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    h.send(stream.substr(k));
    auto a = h.read_response();
    auto b = h.read_response();
    ASSERT_TRUE(a && b) << "split " << k;
    ASSERT_EQ(a->body, "hello world") << k;
    ASSERT_EQ(b->body, "abc") << k;
  }
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  Fixture f;
  Harness h(f.server);
  h.send("DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "GET, HEAD");
  h.send(kGetHealth);  // the connection stays usable
  EXPECT_EQ(h.read_response()->status, 200);
}

struct ErrorCase {
  std::string request;
  int status;
};

TEST(HttpServer, ParseErrorsAnswerThenClose) {
  const std::vector<ErrorCase> cases = {
      {"BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 405},
      {"GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"GET /healthz HTTP/1.1\r\n\r\n", 400},
      {"GET /healthz HTTP/1.1\nHost: t\n\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"GET /healthz HTTP/1.1\r\nHost: t\r\nX: " + std::string(17000, 'a') + "\r\n\r\n", 431},
      {"GET /" + std::string(17000, 'a') + " HTTP/1.1\r\n", 414},
      {"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417},
  };
  for (const ErrorCase& c : cases) {
    Fixture f;
    Harness h(f.server);
    const int64_t before = metrics::value_of("sb_http_parse_errors_total{status=\"" +
                                             std::to_string(c.status) + "\"}");
    h.send(c.request);
    auto r = h.read_response();
    ASSERT_TRUE(r) << c.request.substr(0, 60);
    EXPECT_EQ(r->status, c.status) << c.request.substr(0, 60);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(h.closed_by_server());
    EXPECT_EQ(metrics::value_of("sb_http_parse_errors_total{status=\"" + std::to_string(c.status) +
                                "\"}"),
              before + 1);
  }
}

TEST(HttpServer, BodyLimitDecidedFromContentLength) {
  Fixture f;
  {
    Harness h(f.server);  // route limit 10: 11 is refused before any body byte is sent
    h.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    auto r = h.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(h.closed_by_server());
  }
  {
    Harness h(f.server);
    h.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    auto r = h.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "0123456789");
  }
  {
    Harness h(f.server);  // server default (64) for routes without their own limit
    h.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'x'));
    EXPECT_EQ(h.read_response()->status, 200);
    h.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n");
    EXPECT_EQ(h.read_response()->status, 413);
  }
  {
    Harness h(f.server);  // unknown paths are bounded by the default too
    h.send("POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n");
    EXPECT_EQ(h.read_response()->status, 413);
  }
}

TEST(HttpServer, ExpectContinue) {
  Fixture f;
  Harness h(f.server);
  h.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  auto interim = h.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  h.send("data");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "data");
}

TEST(HttpServer, Http10AndConnectionClose) {
  Fixture f;
  {
    Harness h(f.server);
    h.send("GET /healthz HTTP/1.0\r\n\r\n");
    auto r = h.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(h.closed_by_server());
  }
  {
    Harness h(f.server);
    h.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(h.read_response()->header("connection"), "keep-alive");
    h.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" +
           std::string(kGetHealth));  // the pipelined request after "close" is not answered
    EXPECT_EQ(h.read_response()->header("connection"), "close");
    EXPECT_TRUE(h.closed_by_server());
  }
}

TEST(HttpServer, HandlerThatDoesNotAnswerGives500) {
  Fixture f;
  Harness h(f.server);
  h.send("GET /silent HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(h.read_response()->status, 500);
  h.send(kGetHealth);
  EXPECT_EQ(h.read_response()->status, 200);
}

TEST(HttpServer, MetricsEndpoint) {
  Fixture f;
  Harness h(f.server);
  h.send(kGetHealth);
  ASSERT_TRUE(h.read_response());
  h.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("sb_http_requests_total{class=\"2xx\"}"), std::string::npos);
}

TEST(HttpServer, DeferredResponseHoldsPipelinedRequests) {
  Fixture f;
  Harness h(f.server);
  h.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\n" + std::string(kGetHealth));
  EXPECT_TRUE(h.silent_for(100));  // /healthz waits behind the pending poll
  h.on_loop([&] {
    EXPECT_TRUE(f.poll.pending.active());
    f.poll.pending.respond(text_response(200, "4hello"));
    EXPECT_FALSE(f.poll.pending.active());
  });
  auto a = h.read_response();
  auto b = h.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "4hello");
  EXPECT_EQ(b->body, "ok");
  // And the connection keeps working afterwards, deferred again.
  h.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(h.silent_for(50));
  h.on_loop([&] { f.poll.pending.respond(text_response(200, "6")); });
  EXPECT_EQ(h.read_response()->body, "6");
}

TEST(HttpServer, DeferredResponseBecomesInertWhenTheClientLeaves) {
  Fixture f;
  Harness h(f.server);
  h.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(h.silent_for(50));
  h.close_client();
  for (int i = 0; i < 200; ++i) {
    bool done = false;
    h.on_loop([&] { done = f.poll.abandoned == 1; });
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  h.on_loop([&] {
    EXPECT_EQ(f.poll.abandoned, 1);
    EXPECT_FALSE(f.poll.pending.active());
    f.poll.pending.respond(text_response(200, "too late"));  // a no-op, not a use-after-free
    f.poll.pending = PendingResponse();
  });
}

TEST(HttpServer, DroppedDeferredResponseGives500) {
  Fixture f;
  Harness h(f.server);
  h.send("GET /drop HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(h.read_response()->status, 500);
  h.send(kGetHealth);
  EXPECT_EQ(h.read_response()->status, 200);
}

TEST(HttpServer, UpgradeHandsOverTheBytesAfterTheHead) {
  Fixture f;
  Harness h(f.server);
  h.send("GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nfirst-frame");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 101);
  EXPECT_EQ(h.read_raw(11), "first-frame");
  h.send("GET /healthz HTTP/1.1\r\n\r\n");  // no longer HTTP: echoed back verbatim
  EXPECT_EQ(h.read_raw(25), "GET /healthz HTTP/1.1\r\n\r\n");
}

TEST(HttpServer, Timeouts) {
  ServerOptions o = small_options();
  o.header_timeout_ms = 100;
  o.body_timeout_ms = 100;
  o.keepalive_timeout_ms = 100;
  Fixture f(o);
  const auto count = [](const char* kind) {
    return metrics::value_of(std::string("sb_http_timeouts_total{kind=\"") + kind + "\"}");
  };
  {
    const int64_t before = count("header");
    Harness h(f.server);  // slowloris: the head never completes, however steadily it trickles
    h.send("GET /healthz HTTP/1.1\r\n");
    for (int i = 0; i < 8; ++i) {
      h.send("X" + std::to_string(i) + ": y\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(h.closed_by_server(2000));
    EXPECT_EQ(count("header"), before + 1);
  }
  {
    const int64_t before = count("body");
    Harness h(f.server);
    h.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    auto r = h.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(h.closed_by_server(2000));
    EXPECT_EQ(count("body"), before + 1);
  }
  {
    const int64_t before = count("idle");
    Harness h(f.server);
    h.send(kGetHealth);
    EXPECT_EQ(h.read_response()->status, 200);
    EXPECT_TRUE(h.closed_by_server(2000));
    EXPECT_EQ(count("idle"), before + 1);
  }
}

TEST(HttpServer, CorsHeadersAndPreflight) {
  ServerOptions o = small_options();
  o.cors.allowed_origins = {"http://app.example"};
  Fixture f(o);
  Harness h(f.server);
  h.send("GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: http://app.example\r\n\r\n");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("access-control-allow-origin"), "http://app.example");
  EXPECT_EQ(r->header("access-control-allow-credentials"), "true");
  EXPECT_EQ(r->header("vary"), "Origin");
  h.send("GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.example\r\n\r\n");
  r = h.read_response();
  EXPECT_EQ(r->header("access-control-allow-origin"), "<none>");
  h.send(
      "OPTIONS /socket.io/ HTTP/1.1\r\nHost: t\r\nOrigin: http://app.example\r\n"
      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: "
      "content-type\r\n\r\n");
  r = h.read_response();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("access-control-allow-methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(r->header("access-control-allow-headers"), "content-type");
  h.send(
      "OPTIONS /socket.io/ HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.example\r\n"
      "Access-Control-Request-Method: POST\r\n\r\n");
  r = h.read_response();
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->header("access-control-allow-origin"), "<none>");
  // Deferred answers carry the CORS headers too.
  h.send("GET /poll HTTP/1.1\r\nHost: t\r\nOrigin: http://app.example\r\n\r\n");
  EXPECT_TRUE(h.silent_for(50));
  h.on_loop([&] { f.poll.pending.respond(text_response(200, "x")); });
  EXPECT_EQ(h.read_response()->header("access-control-allow-origin"), "http://app.example");
}

TEST(HttpServer, SilentConnectionGetsTheHeaderTimeout) {
  ServerOptions o;
  o.header_timeout_ms = 100;
  HttpServer s(o);
  Harness h(s);
  EXPECT_TRUE(h.closed_by_server(2000));  // closed without an answer
}

TEST(HttpServer, ResponseCountsByClass) {
  Fixture f;
  Harness h(f.server);
  const int64_t ok = metrics::value_of("sb_http_requests_total{class=\"2xx\"}");
  const int64_t nf = metrics::value_of("sb_http_requests_total{class=\"4xx\"}");
  h.send(std::string(kGetHealth) + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(h.read_response());
  ASSERT_TRUE(h.read_response());
  EXPECT_EQ(metrics::value_of("sb_http_requests_total{class=\"2xx\"}"), ok + 1);
  EXPECT_EQ(metrics::value_of("sb_http_requests_total{class=\"4xx\"}"), nf + 1);
}

}  // namespace
}  // namespace sb::http
