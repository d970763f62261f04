#include "lb/hash_ring.h"

#include <algorithm>

namespace sb::lb {

uint64_t hash_key(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

HashRing::HashRing(const std::vector<std::string>& names) : backends_(names.size()) {
  points_.reserve(names.size() * kVirtualNodes);
  for (size_t b = 0; b < names.size(); ++b) {
    for (int v = 0; v < kVirtualNodes; ++v) {
      points_.push_back(
          Point{hash_key(names[b] + "#" + std::to_string(v)), static_cast<uint32_t>(b)});
    }
  }
  std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.backend < b.backend;
  });
}

int HashRing::lookup(std::string_view key, const std::function<bool(size_t)>& eligible) const {
  if (points_.empty()) return -1;
  const uint64_t h = hash_key(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const Point& p, uint64_t v) { return p.hash < v; });
  size_t start = static_cast<size_t>(it - points_.begin());
  // Walk clockwise; every backend is met within one lap, so the walk is bounded by the ring size.
  for (size_t i = 0; i < points_.size(); ++i) {
    const Point& p = points_[(start + i) % points_.size()];
    if (eligible(p.backend)) return static_cast<int>(p.backend);
  }
  return -1;
}

}  // namespace sb::lb
