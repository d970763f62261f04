#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: fixed memory (4,352 counters,
// 34 KiB), O(1) record, mergeable, and a relative error under 1/128 (0.8 %) at every magnitude.
//
// Layout. Values below 256 have one bucket each (exact). Above, each power of two [2^k, 2^(k+1))
// is split into 128 equal sub-buckets, so a bucket is never wider than 1/128 of its lower bound.
// Values are clamped to kMaxValue (2^40 - 1 ns ≈ 18 minutes), which bounds the array.
//
// One histogram per load-generator loop, written only by that loop's thread; they are merged
// after the threads have been joined, so recording needs no atomics.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sb::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128
  static constexpr int kMaxValueBits = 40;
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxValueBits) - 1;
  /// 256 exact buckets, then 128 per power of two up to 2^kMaxValueBits.
  static constexpr size_t kBucketCount =
      static_cast<size_t>(kMaxValueBits - kSubBucketBits + 1) * kSubBuckets;  // 4,352

  Histogram();

  void record(uint64_t value) { record_n(value, 1); }
  void record_n(uint64_t value, uint64_t n);
  /// Adds every sample of `other` (same layout by construction).
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  /// Exact smallest / largest recorded value (clamped to kMaxValue); 0 when empty.
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  /// Exact mean of the (clamped) values; 0 when empty.
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  /// The value at percentile `p` (0..100): the smallest recorded value v such that at least
  /// ceil(p% of count) samples are <= v, reported as the highest value of v's bucket (never above
  /// max()). 0 when empty. The answer is within one bucket (< 0.8 %) of the exact one.
  uint64_t percentile(double p) const;

  /// Bucket arithmetic, public for tests.
  static size_t index_of(uint64_t value);
  static uint64_t lowest_in_bucket(size_t index);
  static uint64_t highest_in_bucket(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;  // for the mean only (53 bits of precision are plenty)
};

}  // namespace sb::bench
