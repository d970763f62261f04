#include "engineio/id_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sb::engineio {
namespace {

struct Item {
  std::string id;
};
struct IdOf {
  std::string_view operator()(const Item& i) const { return i.id; }
};
using Table = IdTable<Item, IdOf>;

std::vector<std::unique_ptr<Item>> make_items(size_t n) {
  std::vector<std::unique_ptr<Item>> v;
  for (size_t i = 0; i < n; ++i)
    v.push_back(std::make_unique<Item>(Item{"id-" + std::to_string(i)}));
  return v;
}

TEST(IdTable, EmptyFindsNothing) {
  Table t;
  EXPECT_EQ(t.find("x"), nullptr);
  EXPECT_EQ(t.erase("x"), nullptr);
  EXPECT_TRUE(t.empty());
}

TEST(IdTable, InsertFindEraseThroughGrowth) {
  Table t;
  auto items = make_items(5000);
  for (auto& i : items)
    ASSERT_TRUE(t.insert(i.get()));
  EXPECT_EQ(t.size(), 5000u);
  for (auto& i : items)
    ASSERT_EQ(t.find(i->id), i.get());
  EXPECT_FALSE(t.insert(items[7].get()));  // same key twice
  for (size_t i = 0; i < items.size(); i += 2)
    ASSERT_EQ(t.erase(items[i]->id), items[i].get());
  EXPECT_EQ(t.size(), 2500u);
  for (size_t i = 0; i < items.size(); ++i)
    ASSERT_EQ(t.find(items[i]->id), i % 2 == 0 ? nullptr : items[i].get());
  EXPECT_EQ(t.find("absent"), nullptr);
}

// Churn (insert, erase, insert...) fills the table with tombstones: a rebuild must drop them
// and every live entry must stay findable.
TEST(IdTable, ChurnKeepsEntriesFindable) {
  Table t;
  auto items = make_items(2000);
  for (int round = 0; round < 20; ++round) {
    for (size_t i = 0; i < items.size(); ++i)
      if ((i + round) % 3 != 0) t.insert(items[i].get());
    for (size_t i = 0; i < items.size(); ++i)
      if ((i + round) % 3 == 1) t.erase(items[i]->id);
    for (size_t i = 0; i < items.size(); ++i) {
      const bool live = (i + round) % 3 == 2;
      ASSERT_EQ(t.find(items[i]->id) != nullptr, live) << round << " " << i;
    }
    for (size_t i = 0; i < items.size(); ++i)
      t.erase(items[i]->id);
    ASSERT_TRUE(t.empty());
  }
}

TEST(IdTable, ForEachMayEraseWithoutSkipping) {
  Table t;
  auto items = make_items(300);
  for (auto& i : items)
    t.insert(i.get());
  std::set<std::string> seen;
  t.for_each([&](Item& i) {
    seen.insert(i.id);
    t.erase(i.id);
  });
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_TRUE(t.empty());
}

}  // namespace
}  // namespace sb::engineio
