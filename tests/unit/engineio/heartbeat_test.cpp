#include "engineio/heartbeat.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "net/loop.h"
#include "net/loop_group.h"

namespace sb::engineio {
namespace {

struct Waiter : HeartbeatNode {
  int id = 0;
};

// What the loop thread reports back to the test thread.
struct Record {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> fired;
  std::vector<uint64_t> waited_ms;  // loop clock: push → fire
  bool done = false;
};

Record* g_record = nullptr;
uint64_t g_pushed_at[8] = {};
net::Loop* g_loop = nullptr;

void fire(HeartbeatNode& n) {
  auto& w = static_cast<Waiter&>(n);
  std::lock_guard lock(g_record->mu);
  g_record->fired.push_back(w.id);
  g_record->waited_ms.push_back(g_loop->now_ms() - g_pushed_at[w.id]);
  if (g_record->fired.size() == 3) {
    g_record->done = true;
    g_record->cv.notify_all();
  }
}

// Nodes fire in the order they were pushed, not before their delay; a cancelled node never
// fires; a node pushed again starts its wait over (it moves to the tail).
TEST(HeartbeatQueue, FiresInPushOrderAfterTheDelay) {
  Record rec;
  g_record = &rec;
  net::LoopGroup group(1, net::LoopOptions{});
  g_loop = &group.loop(0);
  group.start();
  std::unique_ptr<HeartbeatQueue> queue;
  std::vector<std::unique_ptr<Waiter>> nodes;
  constexpr uint64_t kDelay = 40;
  group.loop(0).post([&] {
    queue = std::make_unique<HeartbeatQueue>(*g_loop, kDelay, &fire);
    for (int i = 0; i < 4; ++i) {
      nodes.push_back(std::make_unique<Waiter>());
      nodes.back()->id = i;
      g_pushed_at[i] = g_loop->now_ms();
      queue->push(*nodes.back());
    }
    nodes[1]->cancel();  // never fires
    g_pushed_at[0] = g_loop->now_ms();
    queue->push(*nodes[0]);  // again: now after 2 and 3
    EXPECT_EQ(queue->size(), 3u);
  });
  {
    std::unique_lock lock(rec.mu);
    ASSERT_TRUE(rec.cv.wait_for(lock, std::chrono::seconds(10), [&] { return rec.done; }));
    EXPECT_EQ(rec.fired, (std::vector<int>{2, 3, 0}));
    for (uint64_t w : rec.waited_ms)
      EXPECT_GE(w, kDelay);
  }
  std::mutex mu;
  std::condition_variable cv;
  bool cleaned = false;
  group.loop(0).post([&] {
    EXPECT_FALSE(nodes[1]->armed());
    EXPECT_EQ(queue->size(), 0u);
    nodes.clear();
    queue.reset();
    std::lock_guard lock(mu);
    cleaned = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return cleaned; }));
  }
  group.stop();
}

}  // namespace
}  // namespace sb::engineio
