#include "net/chunk_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::net {
namespace {

TEST(ChunkQueueTest, IsSixteenBytes) {
  EXPECT_EQ(sizeof(ChunkQueue), 16u);
}

TEST(ChunkQueueTest, AppendGrowsAndKeepsOrderAndReferences) {
  SharedBuffer b = SharedBuffer::copy_of("0123456789");
  ChunkQueue q;
  EXPECT_TRUE(q.empty());
  for (uint32_t i = 0; i < 100; ++i)
    q.emplace_back(b, i % 10, 1);
  ASSERT_EQ(q.size(), 100u);
  EXPECT_GE(q.capacity(), 100u);
  for (uint32_t i = 0; i < 100; ++i)
    EXPECT_EQ(q[i].offset, i % 10);
  EXPECT_EQ(q.back().offset, 9u);
  EXPECT_FALSE(b.exclusive());  // the queue holds references
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_GE(q.capacity(), 100u);  // storage kept for the next writes
  EXPECT_TRUE(b.exclusive());
}

TEST(ChunkQueueTest, EraseFrontMovesTheRest) {
  SharedBuffer b = SharedBuffer::copy_of("abc");
  ChunkQueue q;
  for (uint32_t i = 0; i < 10; ++i)
    q.emplace_back(b, i, 1);
  q.erase_front(4);
  ASSERT_EQ(q.size(), 6u);
  for (uint32_t i = 0; i < 6; ++i)
    EXPECT_EQ(q[i].offset, i + 4);
  q.erase_front(6);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(b.exclusive());
}

TEST(ChunkQueueTest, ReleaseStorageFreesEverything) {
  SharedBuffer b = SharedBuffer::copy_of("abc");
  ChunkQueue q;
  q.emplace_back(b, 0, 1);
  q.release_storage();
  EXPECT_EQ(q.capacity(), 0u);
  EXPECT_TRUE(b.exclusive());
  q.emplace_back(SharedBuffer(b), 2, 1);  // usable again
  EXPECT_EQ(q[0].offset, 2u);
}

}  // namespace
}  // namespace sb::net
