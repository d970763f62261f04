#pragma once
// Consistent hashing for ip-hash mode: each backend owns kVirtualNodes points on a 64-bit ring and
// a key goes to the first point clockwise whose backend is eligible. The ring always holds every
// configured backend; a dead or drained backend is skipped at lookup rather than removed, so when
// it comes back exactly the keys it owned return to it and no other key moves (the minimal
// movement property, tested in tests/unit/lb/hash_ring_test.cpp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::lb {

/// 64-bit FNV-1a followed by a splitmix64 finalizer (FNV alone clusters on short similar keys
/// such as "127.0.0.2" / "127.0.0.3").
uint64_t hash_key(std::string_view key);

class HashRing {
 public:
  static constexpr int kVirtualNodes = 160;

  /// One entry per backend; `names` are the stable identities hashed onto the ring ("host:port").
  explicit HashRing(const std::vector<std::string>& names);

  /// The backend owning `key`, skipping backends for which `eligible(index)` is false.
  /// -1 when none is eligible.
  int lookup(std::string_view key, const std::function<bool(size_t)>& eligible) const;
  int lookup(std::string_view key) const {
    return lookup(key, [](size_t) { return true; });
  }
  size_t backends() const { return backends_; }

 private:
  struct Point {
    uint64_t hash;
    uint32_t backend;
  };
  std::vector<Point> points_;  // sorted by hash
  size_t backends_ = 0;
};

}  // namespace sb::lb
