#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sb::bench {
namespace {

// The exact answer: the sample of rank ceil(p% of n) in sorted order.
uint64_t oracle(std::vector<uint64_t> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<uint64_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_close(const Histogram& h, const std::vector<uint64_t>& values, double p) {
  const uint64_t want = std::min(oracle(values, p), Histogram::kMaxValue);
  const uint64_t got = h.percentile(p);
  // Same bucket as the exact answer: never below it, at most one bucket width (< 1/128) above.
  EXPECT_GE(got, want) << "p" << p;
  EXPECT_LE(got, Histogram::highest_in_bucket(Histogram::index_of(want))) << "p" << p;
  EXPECT_LE(static_cast<double>(got - want), static_cast<double>(want) / 128.0 + 1e-9) << "p" << p;
}

TEST(Histogram, BucketsAreContiguousAndTight) {
  uint64_t expected_low = 0;
  for (size_t i = 0; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(Histogram::lowest_in_bucket(i), expected_low) << i;
    const uint64_t hi = Histogram::highest_in_bucket(i);
    ASSERT_GE(hi, expected_low);
    ASSERT_EQ(Histogram::index_of(expected_low), i);
    ASSERT_EQ(Histogram::index_of(hi), i);
    // Relative width bound (exact below 256).
    ASSERT_LE(static_cast<double>(hi - expected_low), static_cast<double>(expected_low) / 128.0)
        << i;
    expected_low = hi + 1;
  }
  EXPECT_EQ(expected_low, Histogram::kMaxValue + 1);
  EXPECT_EQ(Histogram::index_of(UINT64_MAX), Histogram::kBucketCount - 1);
}

TEST(Histogram, EmptyAndSingle) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.record(123456789);
  for (double p : {0.0, 50.0, 99.9, 100.0})
    EXPECT_EQ(h.percentile(p), 123456789u) << p;
  EXPECT_EQ(h.min(), 123456789u);
  EXPECT_DOUBLE_EQ(h.mean(), 123456789.0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < 256; ++i) {
    h.record(i);
    v.push_back(i);
  }
  for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 100.0})
    EXPECT_EQ(h.percentile(p), oracle(v, p));
}

TEST(Histogram, PercentilesMatchSortedOracle) {
  std::mt19937_64 rng(42);
  // Several shapes: uniform, log-uniform (latencies over many magnitudes), a heavy tail.
  std::vector<std::vector<uint64_t>> sets(3);
  std::uniform_int_distribution<uint64_t> uni(0, 10'000'000);
  std::uniform_real_distribution<double> logu(0, 36);
  std::lognormal_distribution<double> tail(12.0, 2.0);
  for (int i = 0; i < 100'000; ++i) {
    sets[0].push_back(uni(rng));
    sets[1].push_back(static_cast<uint64_t>(std::exp2(logu(rng))));
    sets[2].push_back(static_cast<uint64_t>(tail(rng)));
  }
  for (const auto& values : sets) {
    Histogram h;
    for (uint64_t x : values)
      h.record(x);
    ASSERT_EQ(h.count(), values.size());
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
    EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
    for (double p : {0.0, 0.1, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
      expect_close(h, values, p);
    }
  }
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> d(0, 1'000'000'000);
  Histogram a, b, all;
  std::vector<uint64_t> values;
  for (int i = 0; i < 50'000; ++i) {
    const uint64_t x = d(rng);
    (i % 3 ? a : b).record(x);
    all.record(x);
    values.push_back(x);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(a.percentile(p), all.percentile(p));
    expect_close(a, values, p);
  }
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(99), 0u);
}

TEST(Histogram, HugeValuesClamp) {
  Histogram h;
  h.record(UINT64_MAX);
  h.record_n(5, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
  EXPECT_EQ(h.percentile(50), 5u);
  EXPECT_EQ(h.percentile(100), Histogram::kMaxValue);
}

}  // namespace
}  // namespace sb::bench
