// Route head hooks: called when a request's head is complete, before its body is read; a refusal
// answers without reading the body; a request that never completes reports its abort.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "http/router.h"
#include "http/server.h"
#include "http_harness.h"

namespace sb::http {
namespace {

using testing::Harness;

// Loop-thread record of what the route saw, read by the test through Harness::on_loop.
struct Events {
  int heads = 0;
  int handled = 0;
  int aborts = 0;
  std::string last_body;
};

struct HookFixture {
  explicit HookFixture(ServerOptions o = {}) : server(std::move(o)) {
    server.router().add(
        "/upload", {Method::kPost},
        [this](Exchange& ex) {
          ++ev.handled;
          ev.last_body.assign(ex.body());
          ex.respond(200, kTextPlain, "ok");
        },
        std::nullopt,
        [this](const Request& req, net::Connection& /*c*/) {
          ++ev.heads;
          HeadVerdict v;
          if (req.header("x-refuse")) {
            v.refuse = text_response(409, "refused by head");
            return v;
          }
          v.on_abort = [this] { ++ev.aborts; };
          return v;
        });
  }
  HttpServer server;
  Events ev;
};

// Waits (generously) until `pred` holds on the loop thread.
bool eventually(Harness& h, const std::function<bool()>& pred) {
  for (int i = 0; i < 400; ++i) {
    bool ok = false;
    h.on_loop([&] { ok = pred(); });
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

Events snapshot(Harness& h, const Events& ev) {
  Events copy;
  h.on_loop([&] { copy = ev; });
  return copy;
}

TEST(HttpHeadHook, CalledBeforeTheBodyThenTheHandlerOnce) {
  HookFixture f;
  Harness h(f.server);
  h.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(eventually(h, [&] { return f.ev.heads == 1; }));
  EXPECT_EQ(snapshot(h, f.ev).handled, 0);
  // The rest of the body trickles in byte by byte: the head is not announced again.
  for (const char ch : std::string("defghij")) {
    h.send(std::string(1, ch));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const Events e = snapshot(h, f.ev);
  EXPECT_EQ(e.heads, 1);
  EXPECT_EQ(e.handled, 1);
  EXPECT_EQ(e.last_body, "abcdefghij");
  // A completed request is never reported as aborted, even when the client leaves afterwards.
  h.close_client();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(snapshot(h, f.ev).aborts, 0);
}

TEST(HttpHeadHook, WholeAndPipelinedRequestsGetOneHeadEach) {
  HookFixture f;
  Harness h(f.server);
  const std::string one = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nxy";
  h.send(one + one + "GET /upload HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_EQ(h.read_response()->status, 200);
  ASSERT_EQ(h.read_response()->status, 200);
  EXPECT_EQ(h.read_response()->status, 405);  // not matched as found: no hook
  const Events e = snapshot(h, f.ev);
  EXPECT_EQ(e.heads, 2);
  EXPECT_EQ(e.handled, 2);
  EXPECT_EQ(e.aborts, 0);
}

TEST(HttpHeadHook, RefusalAnswersWithoutReadingTheBody) {
  HookFixture f;
  Harness h(f.server);
  h.send("POST /upload HTTP/1.1\r\nHost: t\r\nX-Refuse: 1\r\nContent-Length: 1000\r\n\r\nabc");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(r->body, "refused by head");
  EXPECT_EQ(r->header("connection"), "close");
  h.send(std::string(997, 'x'));  // the rest of the body: never read as a request
  EXPECT_TRUE(h.closed_by_server(2000));
  const Events e = snapshot(h, f.ev);
  EXPECT_EQ(e.heads, 1);
  EXPECT_EQ(e.handled, 0);
  EXPECT_EQ(e.aborts, 0);
}

TEST(HttpHeadHook, ClientLeavingMidBodyReportsTheAbort) {
  HookFixture f;
  Harness h(f.server);
  h.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc");
  ASSERT_TRUE(eventually(h, [&] { return f.ev.heads == 1; }));
  h.close_client();
  ASSERT_TRUE(eventually(h, [&] { return f.ev.aborts == 1; }));
  EXPECT_EQ(snapshot(h, f.ev).handled, 0);
}

TEST(HttpHeadHook, BodyTimeoutReportsTheAbort) {
  ServerOptions o;
  o.body_timeout_ms = 100;
  HookFixture f(o);
  Harness h(f.server);
  h.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  auto r = h.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  ASSERT_TRUE(eventually(h, [&] { return f.ev.aborts == 1; }));
  EXPECT_EQ(snapshot(h, f.ev).handled, 0);
}

TEST(HttpHeadHook, OversizedBodyIsRefusedBeforeTheHook) {
  ServerOptions o;
  o.max_body_bytes = 16;
  HookFixture f(o);
  Harness h(f.server);
  h.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n");
  EXPECT_EQ(h.read_response()->status, 413);
  EXPECT_EQ(snapshot(h, f.ev).heads, 0);
}

}  // namespace
}  // namespace sb::http
