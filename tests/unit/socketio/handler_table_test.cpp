// Shared handler tables (handler_table.h): sockets that register the same handlers share one
// table; anything that cannot be proven the same stays private; dispatch, replacement and
// lifetimes are what they were with a table per socket. Run under ASan for the lifetimes.

#include "socketio/handler_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_runtime.h"
#include "socketio/client.h"
#include "socketio/socket.h"

namespace sb::socketio {
namespace {

using testing::FakeLoops;
using testing::feed;
using testing::TestClient;

struct HandlerTableTest : ::testing::Test {
  FakeLoops loops{2};
  Server io{loops};
  Socket* last = nullptr;
  std::vector<TestClient> clients;

  /// Connects a client to "/" on `loop`; returns its socket (set by the connection handler
  /// the test installed, which must store it in `last`).
  Socket* connect(int loop) {
    last = nullptr;
    TestClient c = testing::connect_client(io, loop);
    feed(c, "0");
    clients.push_back(c);
    return last;
  }
  size_t shared_tables(int loop) {
    LoopScope scope(loop);
    return io.of("/").shared_handler_tables(loop);
  }
};

TEST_F(HandlerTableTest, SocketsRegisteringTheSameHandlersShareOneTable) {
  int hits = 0;
  io.on_connection([&](Socket& s) {
    last = &s;
    s.on("b", [&hits](const Args&) { ++hits; });
    s.on("e", [](const Args& a, const Ack& ack) { ack({a.value(0)}); });
  });
  Socket* a = connect(0);
  Socket* b = connect(0);
  Socket* c = connect(0);
  Socket* other_loop = connect(1);
  ASSERT_NE(a->handler_table(), nullptr);
  EXPECT_TRUE(a->handler_table()->shared());
  EXPECT_EQ(a->handler_table(), b->handler_table());
  EXPECT_EQ(a->handler_table(), c->handler_table());
  EXPECT_EQ(a->handler_table()->refs(), 3u);
  EXPECT_EQ(a->handler_table()->size(), 2u);
  // Per loop: the other loop has its own table with the same content.
  EXPECT_NE(other_loop->handler_table(), a->handler_table());
  EXPECT_EQ(other_loop->handler_table()->size(), 2u);
  // The intermediate table (after the first on()) went with its last user.
  EXPECT_EQ(shared_tables(0), 1u);
  EXPECT_EQ(shared_tables(1), 1u);

  for (const TestClient& t : clients)
    feed(t, "2[\"b\"]");
  EXPECT_EQ(hits, 4);
  feed(clients[1], "25[\"e\",\"x\"]");
  EXPECT_EQ(clients[1].last(), "35[\"x\"]");
}

TEST_F(HandlerTableTest, DifferentCapturesOrdersAndSequencesGetTheirOwnTables) {
  int n = 0;
  io.on_connection([&](Socket& s) {
    last = &s;
    const int mode = n++;
    // Per socket: the capture differs, so the table does (each still dispatches to its own).
    if (mode == 0 || mode == 1) s.on("who", [&s](const Args&) { s.emit("me", s.id()); });
    // Orders and prefixes.
    if (mode == 2 || mode == 4) {
      s.on("x", [](const Args&, const Ack& ack) { ack({"x"}); });
      s.on("y", [](const Args&, const Ack& ack) { ack({"y"}); });
    }
    if (mode == 3) {
      s.on("y", [](const Args&, const Ack& ack) { ack({"y"}); });
      s.on("x", [](const Args&, const Ack& ack) { ack({"x"}); });
    }
    if (mode == 4) s.on("z", [](const Args&, const Ack& ack) { ack({"z"}); });
  });
  Socket* s0 = connect(0);
  Socket* s1 = connect(0);
  Socket* s2 = connect(0);
  Socket* s3 = connect(0);
  Socket* s4 = connect(0);
  EXPECT_NE(s0->handler_table(), s1->handler_table());
  EXPECT_TRUE(s0->handler_table()->shared());
  EXPECT_NE(s2->handler_table(), s3->handler_table());
  EXPECT_NE(s2->handler_table(), s4->handler_table());
  EXPECT_EQ(s2->handler_table()->size(), 2u);
  EXPECT_EQ(s4->handler_table()->size(), 3u);
  EXPECT_EQ((*s3->handler_table())[0].event, "y");
  EXPECT_EQ(shared_tables(0), 5u);

  feed(clients[0], "2[\"who\"]");
  EXPECT_EQ(clients[0].last(), "2[\"me\",\"" + std::string(s0->id()) + "\"]");
  feed(clients[1], "2[\"who\"]");
  EXPECT_EQ(clients[1].last(), "2[\"me\",\"" + std::string(s1->id()) + "\"]");
  feed(clients[3], "21[\"x\"]");
  EXPECT_EQ(clients[3].last(), "31[\"x\"]");
  feed(clients[4], "22[\"z\"]");
  EXPECT_EQ(clients[4].last(), "32[\"z\"]");
  const size_t before = clients[2].out().size();
  feed(clients[2], "23[\"z\"]");  // s2 is a prefix of s4's table: no "z" handler
  EXPECT_EQ(clients[2].out().size(), before);
}

TEST_F(HandlerTableTest, HandlersThatCannotBeProvenTheSameArePrivate) {
  int n = 0;
  io.on_connection([&](Socket& s) {
    last = &s;
    switch (n++ % 4) {
      case 0:  // a std::function
        s.on("ev", EventHandler([](const Args&, const Ack& ack) { ack({"f"}); }));
        break;
      case 1:  // mutable: each socket must keep its own counter
        s.on("ev", [k = 0](const Args&, const Ack& ack) mutable { ack({++k}); });
        break;
      case 2: {  // captures over 16 bytes
        const void* p1 = &s;
        const void* p2 = &n;
        const void* p3 = this;
        s.on("ev", [p1, p2, p3](const Args&, const Ack& ack) {
          ack({p1 != nullptr && p2 != nullptr && p3 != nullptr});
        });
        break;
      }
      default:  // not trivially copyable
        s.on("ev", [tag = std::string("t")](const Args&, const Ack& ack) { ack({tag}); });
        break;
    }
    // Shareable on its own, but the table is private already.
    s.on("after", [](const Args&, const Ack& ack) { ack({"after"}); });
  });
  std::vector<Socket*> socks;
  socks.reserve(8);
  for (int i = 0; i < 8; ++i)
    socks.push_back(connect(0));
  for (Socket* s : socks) {
    ASSERT_NE(s->handler_table(), nullptr);
    EXPECT_FALSE(s->handler_table()->shared());
    EXPECT_EQ(s->handler_table()->size(), 2u);
  }
  EXPECT_EQ(shared_tables(0), 0u);
  // The mutable handler keeps one state per socket, as a handler per socket did.
  feed(clients[1], "21[\"ev\"]");
  feed(clients[1], "22[\"ev\"]");
  EXPECT_EQ(clients[1].last(), "32[2]");
  feed(clients[5], "21[\"ev\"]");
  EXPECT_EQ(clients[5].last(), "31[1]");
  feed(clients[0], "21[\"ev\"]");
  EXPECT_EQ(clients[0].last(), "31[\"f\"]");
  feed(clients[2], "21[\"ev\"]");
  EXPECT_EQ(clients[2].last(), "31[true]");
  feed(clients[3], "21[\"ev\"]");
  EXPECT_EQ(clients[3].last(), "31[\"t\"]");
  feed(clients[3], "22[\"after\"]");
  EXPECT_EQ(clients[3].last(), "32[\"after\"]");
}

TEST_F(HandlerTableTest, ALaterOnForAnEventReplacesItsHandlerInPlace) {
  io.on_connection([&](Socket& s) {
    last = &s;
    s.on("x", [](const Args&, const Ack& ack) { ack({1}); });
    s.on("y", [](const Args&, const Ack& ack) { ack({"y"}); });
    s.on("x", [](const Args&, const Ack& ack) { ack({2}); });
  });
  Socket* a = connect(0);
  Socket* b = connect(0);
  ASSERT_EQ(a->handler_table(), b->handler_table());
  const HandlerTable& t = *a->handler_table();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].event, "x");  // the replaced handler kept its position
  EXPECT_EQ(t[1].event, "y");
  feed(clients[0], "21[\"x\"]");
  EXPECT_EQ(clients[0].last(), "31[2]");
  feed(clients[1], "22[\"y\"]");
  EXPECT_EQ(clients[1].last(), "32[\"y\"]");
}

TEST_F(HandlerTableTest, AHandlerReplacingItselfMovesOnlyItsSocket) {
  io.on_connection([&](Socket& s) {
    last = &s;
    s.on("e", [](const Args&, const Ack& ack) { ack({"e"}); });
    // Replaces itself while it runs: the table it runs from stays alive during the call.
    s.on("once", [&s](const Args&, const Ack& ack) {
      s.on("once", [](const Args&, const Ack& a2) { a2({"again"}); });
      ack({"first"});
    });
  });
  Socket* a = connect(0);
  Socket* b = connect(0);
  const HandlerTable* b_table = b->handler_table();
  feed(clients[0], "22[\"once\"]");
  EXPECT_EQ(clients[0].last(), "32[\"first\"]");
  feed(clients[0], "23[\"once\"]");
  EXPECT_EQ(clients[0].last(), "33[\"again\"]");
  feed(clients[0], "24[\"e\"]");
  EXPECT_EQ(clients[0].last(), "34[\"e\"]");
  EXPECT_EQ(a->handler_table()->size(), 2u);
  EXPECT_EQ(b->handler_table(), b_table);  // b is untouched
  feed(clients[1], "24[\"once\"]");
  EXPECT_EQ(clients[1].last(), "34[\"first\"]");
}

TEST_F(HandlerTableTest, APrivateTableReplacedDuringItsOwnDispatchIsCopiedNotEdited) {
  io.on_connection([&](Socket& s) {
    last = &s;
    s.on("swap", EventHandler([&s](const Args&, const Ack& ack) {
           // Would free the running std::function if the table were edited in place.
           s.on("swap", EventHandler([](const Args&, const Ack& a2) { a2({"new"}); }));
           ack({"old"});
         }));
  });
  Socket* a = connect(0);
  const HandlerTable* before = a->handler_table();
  ASSERT_FALSE(before->shared());
  feed(clients[0], "21[\"swap\"]");
  EXPECT_EQ(clients[0].last(), "31[\"old\"]");
  feed(clients[0], "22[\"swap\"]");
  EXPECT_EQ(clients[0].last(), "32[\"new\"]");
  EXPECT_FALSE(a->handler_table()->shared());
}

TEST_F(HandlerTableTest, TablesGoWithTheirLastSocket) {
  io.on_connection([&](Socket& s) {
    last = &s;
    s.on("bye", [&s](const Args&) { s.disconnect(); });  // per socket
    s.on("e", [](const Args&, const Ack& ack) { ack({}); });
  });
  connect(0);
  connect(0);
  EXPECT_EQ(shared_tables(0), 2u);
  feed(clients[0], "2[\"bye\"]");  // the socket leaves from inside its own handler
  loops.run();                     // reaped at the end of the turn
  EXPECT_EQ(shared_tables(0), 1u);
  feed(clients[1], "1");  // the client leaves the namespace
  loops.run();
  EXPECT_EQ(shared_tables(0), 0u);
}

// The cache on its own: content addressing and the bound.
EventHandler noop() {
  return [](const Args&, const Ack&) {};
}

TEST(HandlerCacheTest, ContentDecidesNotThePathThatBuiltIt) {
  HandlerCache cache;
  const auto mk = [](int v) { return [v](const Args&, const Ack&) { (void)v; }; };
  const HandlerKey k1 = HandlerKey::of<true>(mk(1));
  const HandlerKey k2 = HandlerKey::of<true>(mk(2));
  const HandlerKey k3 = HandlerKey::of<true>(mk(3));
  EXPECT_TRUE(k1.shareable());
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k1, HandlerKey::of<true>(mk(1)));
  EXPECT_FALSE(HandlerKey::of<false>(mk(1)).shareable());

  // a:1, b:3 then a:2  ==  a:2, b:3
  HandlerRef p = cache.set({}, "a", noop(), k1);
  p = cache.set(std::move(p), "b", noop(), k3);
  p = cache.set(std::move(p), "a", noop(), k2);
  HandlerRef q = cache.set({}, "a", noop(), k2);
  q = cache.set(std::move(q), "b", noop(), k3);
  EXPECT_EQ(p.get(), q.get());
  EXPECT_EQ(p->refs(), 2u);
  EXPECT_EQ(cache.size(), 1u);  // the intermediates went with their last reference
  p.reset();
  q.reset();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(HandlerCacheTest, PastTheBoundNewTablesArePrivateAndStillWork) {
  HandlerCache cache;
  std::vector<HandlerRef> refs;
  int calls = 0;
  for (int i = 0; i < static_cast<int>(HandlerCache::kMaxTables) + 44; ++i) {
    const auto f = [i, &calls](const Args&, const Ack&) { calls += i >= 0 ? 1 : 0; };
    refs.push_back(cache.set({}, "ev", EventHandler(f), HandlerKey::of<true>(f)));
  }
  EXPECT_EQ(cache.size(), HandlerCache::kMaxTables);
  EXPECT_TRUE(refs[HandlerCache::kMaxTables - 1]->shared());
  EXPECT_FALSE(refs[HandlerCache::kMaxTables]->shared());
  for (const HandlerRef& r : refs)
    r.find("ev")->handler(Args("[]"), Ack());
  EXPECT_EQ(calls, static_cast<int>(refs.size()));
  // Freed ones make room again.
  refs.erase(refs.begin(), refs.begin() + 10);
  EXPECT_EQ(cache.size(), HandlerCache::kMaxTables - 10);
  const auto g = [](const Args&, const Ack&) {};
  HandlerRef r = cache.set({}, "other", EventHandler(g), HandlerKey::of<true>(g));
  EXPECT_TRUE(r->shared());
}

TEST(HandlerCacheTest, ReferencesOutlivingTheCacheFreeTheirTable) {
  HandlerRef r;
  {
    HandlerCache cache;
    const auto f = [](const Args&, const Ack&) {};
    r = cache.set({}, "ev", EventHandler(f), HandlerKey::of<true>(f));
    EXPECT_TRUE(r->shared());
  }
  EXPECT_FALSE(r->shared());
  r.reset();  // no leak, no use of the cache (ASan)
}

}  // namespace
}  // namespace sb::socketio
