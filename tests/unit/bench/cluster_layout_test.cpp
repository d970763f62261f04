#include "bench/cluster_layout.h"

#include <gtest/gtest.h>

#include <array>

namespace sb::bench {
namespace {

TEST(ClusterLayout, SendersOnTheFirstTargetReceiversRoundRobin) {
  // 2 senders, 2 targets: ids 0 and 1 on target 0, then id % 2.
  EXPECT_EQ(cluster_target_of(0, 2, 2), 0u);
  EXPECT_EQ(cluster_target_of(1, 2, 2), 0u);
  EXPECT_EQ(cluster_target_of(2, 2, 2), 0u);
  EXPECT_EQ(cluster_target_of(3, 2, 2), 1u);
  std::array<int, 3> per{};
  for (uint32_t id = 0; id < 3000; ++id)
    ++per[cluster_target_of(id, 1, 3)];
  EXPECT_EQ(per[0], 1000);
  EXPECT_EQ(per[1], 1000);
  EXPECT_EQ(per[2], 1000);
}

TEST(ClusterLayout, OneTargetIsAlwaysTargetZero) {
  for (uint32_t id = 0; id < 10; ++id)
    EXPECT_EQ(cluster_target_of(id, 1, 1), 0u);
  EXPECT_EQ(cluster_target_of(7, 1, 0), 0u);
}

}  // namespace
}  // namespace sb::bench
