// The consistent hash ring of ip-hash mode: assignment is stable and deterministic, roughly even,
// and adding or removing a backend moves only the keys that must move.

#include "lb/hash_ring.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sb::lb {
namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i)
    v.push_back("10.0.0." + std::to_string(i + 1) + ":3000");
  return v;
}

std::string key(int i) {
  return "192.168." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}

TEST(HashRing, StableAndDeterministic) {
  HashRing a(names(3));
  HashRing b(names(3));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.lookup(key(i)), b.lookup(key(i)));
    EXPECT_EQ(a.lookup(key(i)), a.lookup(key(i)));
  }
}

TEST(HashRing, RoughlyEven) {
  HashRing r(names(4));
  std::map<int, int> count;
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    ++count[r.lookup(key(i))];
  ASSERT_EQ(count.size(), 4U);
  for (auto [b, c] : count) {
    EXPECT_GT(c, n / 4 * 7 / 10) << b;  // within ±30% of a fair share
    EXPECT_LT(c, n / 4 * 13 / 10) << b;
  }
}

TEST(HashRing, RemovingABackendMovesOnlyItsKeys) {
  HashRing r(names(4));
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    const int before = r.lookup(key(i));
    const int after = r.lookup(key(i), [](size_t b) { return b != 2; });
    if (before != 2) {
      EXPECT_EQ(before, after) << key(i);
    } else {
      EXPECT_NE(after, 2);
    }
  }
}

TEST(HashRing, AddingABackendMovesOnlyKeysToIt) {
  HashRing three(names(3));
  HashRing four(names(4));
  const int n = 5000;
  int moved = 0;
  for (int i = 0; i < n; ++i) {
    const int a = three.lookup(key(i));
    const int b = four.lookup(key(i));
    if (a != b) {
      EXPECT_EQ(b, 3) << "a key moved between old backends";
      ++moved;
    }
  }
  // About a quarter of the keys move to the new backend; far from a full reshuffle.
  EXPECT_GT(moved, n / 8);
  EXPECT_LT(moved, n * 3 / 8);
}

TEST(HashRing, NoEligibleBackend) {
  HashRing r(names(2));
  EXPECT_EQ(r.lookup("k", [](size_t) { return false; }), -1);
  HashRing empty({});
  EXPECT_EQ(empty.lookup("k"), -1);
}

}  // namespace
}  // namespace sb::lb
