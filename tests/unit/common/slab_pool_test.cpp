#include "common/slab_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace sb::slab {
namespace {

TEST(SlabPoolTest, FreedBlockIsReusedBySameSize) {
  void* a = allocate(40);
  std::memset(a, 0xab, 40);
  const Stats before = thread_stats();
  deallocate(a, 40);
  EXPECT_EQ(thread_stats().live_blocks, before.live_blocks - 1);
  void* b = allocate(37);  // same 8-byte class as 40
  EXPECT_EQ(a, b);
  deallocate(b, 37);
}

TEST(SlabPoolTest, BlocksAreAlignedAndDisjoint) {
  std::vector<std::pair<char*, size_t>> blocks;
  for (size_t n = 1; n <= kMaxBlock; n += 13) {
    void* p = allocate(n);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % kGranularity, 0u) << n;
    std::memset(p, static_cast<int>(n), n);  // the whole block is writable
    blocks.emplace_back(static_cast<char*>(p), n);
  }
  std::sort(blocks.begin(), blocks.end(), std::less<>());
  for (size_t i = 1; i < blocks.size(); ++i)
    EXPECT_LE(blocks[i - 1].first + blocks[i - 1].second, blocks[i].first);
  for (auto [p, n] : blocks)
    deallocate(p, n);
}

TEST(SlabPoolTest, MemoryIsBoundedByThePeak) {
  // Allocate a peak spanning several slabs, free it, and do it again: no new slab.
  constexpr size_t kSize = 216;
  constexpr size_t kCount = 3 * kSlabBytes / kSize;
  std::vector<void*> v;
  for (size_t i = 0; i < kCount; ++i)
    v.push_back(allocate(kSize));
  const size_t slabs = thread_stats().slabs;
  EXPECT_GE(slabs, 3u);
  for (int round = 0; round < 3; ++round) {
    for (void* p : v)
      deallocate(p, kSize);
    for (void*& p : v)
      p = allocate(kSize);
  }
  EXPECT_EQ(thread_stats().slabs, slabs);
  std::set<void*> distinct(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), v.size());
  for (void* p : v)
    deallocate(p, kSize);
}

TEST(SlabPoolTest, LargeBlocksGoToOperatorNew) {
  const Stats before = thread_stats();
  void* p = allocate(kMaxBlock + 1);
  std::memset(p, 1, kMaxBlock + 1);
  EXPECT_EQ(thread_stats().live_blocks, before.live_blocks);
  deallocate(p, kMaxBlock + 1);
}

struct Base : SlabAllocated {
  virtual ~Base() = default;
  uint64_t a = 1;
};
struct Derived final : Base {
  explicit Derived(int* d) : destroyed(d) {}
  ~Derived() override { ++*destroyed; }
  int* destroyed;
  char extra[100] = {};
};

TEST(SlabPoolTest, DerivedObjectsAreSizedByTheirDynamicType) {
  int destroyed = 0;
  const Stats before = thread_stats();
  std::unique_ptr<Base> b = std::make_unique<Derived>(&destroyed);
  EXPECT_EQ(thread_stats().live_blocks, before.live_blocks + 1);
  b.reset();  // deleted through the base: the sized delete gets Derived's size
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(thread_stats().live_blocks, before.live_blocks);
  // The block went back to Derived's class: the next Derived takes it.
  void* p = allocate(sizeof(Derived));
  auto* d = new Derived(&destroyed);
  EXPECT_NE(static_cast<void*>(d), p);
  deallocate(p, sizeof(Derived));
  delete d;  // NOLINT(cppcoreguidelines-owning-memory)
}

// A loop destroyed by the main thread after its thread exited: its objects are freed here and
// return to the exited thread's pool, which the next thread reuses.
TEST(SlabPoolTest, BlocksOfAnExitedThreadAreFreedElsewhereAndReused) {
  std::vector<void*> made;
  made.reserve(100);
  std::thread t([&made] {
    for (int i = 0; i < 100; ++i)
      made.push_back(allocate(64));
  });
  t.join();
  for (void* p : made)
    deallocate(p, 64);  // the owner has exited: goes to its (orphaned) pool
  std::set<void*> freed(made.begin(), made.end());
  size_t reused = 0;
  std::thread t2([&] {
    // This thread adopts an orphaned pool (possibly the one above) and drains what was freed.
    std::vector<void*> again;
    again.reserve(100);
    for (int i = 0; i < 100; ++i)
      again.push_back(allocate(64));
    for (void* p : again)
      reused += freed.count(p);
    for (void* p : again)
      deallocate(p, 64);
    EXPECT_EQ(thread_stats().live_blocks, 0u);
  });
  t2.join();
  EXPECT_EQ(reused, 100u);
}

TEST(SlabPoolTest, ThreadsHaveTheirOwnPools) {
  void* mine = allocate(48);
  void* theirs = nullptr;
  std::thread t([&theirs] {
    theirs = allocate(48);
    deallocate(theirs, 48);
  });
  t.join();
  EXPECT_NE(mine, theirs);
  deallocate(mine, 48);
}

}  // namespace
}  // namespace sb::slab
