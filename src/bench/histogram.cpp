#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sb::bench {

// Index layout: [0, 256) exact; then for shift s >= 1 (values [128·2^s, 256·2^s)) the 128
// buckets at s·128 + (value >> s). The ranges join without gaps: s = 1 starts at 256.
size_t Histogram::index_of(uint64_t value) {
  value = std::min(value, kMaxValue);
  if (value < 2 * kSubBuckets) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBucketBits;
  return static_cast<size_t>(shift) * kSubBuckets + static_cast<size_t>(value >> shift);
}

uint64_t Histogram::lowest_in_bucket(size_t index) {
  if (index < 2 * kSubBuckets) return index;
  const size_t shift = index / kSubBuckets - 1;
  const uint64_t sub = index - shift * kSubBuckets;  // in [128, 256)
  return sub << shift;
}

uint64_t Histogram::highest_in_bucket(size_t index) {
  if (index < 2 * kSubBuckets) return index;
  const size_t shift = index / kSubBuckets - 1;
  return lowest_in_bucket(index) + (uint64_t{1} << shift) - 1;
}

Histogram::Histogram() : counts_(kBucketCount, 0) {}

void Histogram::record_n(uint64_t value, uint64_t n) {
  if (n == 0) return;
  value = std::min(value, kMaxValue);
  counts_[index_of(value)] += n;
  count_ += n;
  sum_ += static_cast<double>(value) * static_cast<double>(n);
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Rank of the wanted sample (1-based): ceil(p% of n), at least the first.
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in_bucket(i), max_);
  }
  return max_;
}

}  // namespace sb::bench
