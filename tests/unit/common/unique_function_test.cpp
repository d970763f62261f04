// UniqueFunction: the move-only callable behind Loop::post tasks.

#include "common/unique_function.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sb {
namespace {

struct Tracker {
  int* destroyed;
  explicit Tracker(int* d) : destroyed(d) {}
  Tracker(Tracker&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)) {}
  Tracker(const Tracker&) = delete;
  ~Tracker() {
    if (destroyed) ++*destroyed;
  }
};

TEST(UniqueFunctionTest, DefaultIsEmpty) {
  UniqueFunction<void()> f;
  EXPECT_FALSE(f);
}

TEST(UniqueFunctionTest, MoveOnlyCapture) {
  auto p = std::make_unique<int>(41);
  UniqueFunction<int()> f = [p = std::move(p)] { return *p + 1; };
  ASSERT_TRUE(f);
  EXPECT_EQ(f(), 42);
  EXPECT_EQ(f(), 42);  // callable more than once
}

TEST(UniqueFunctionTest, MoveTransfersOwnership) {
  int destroyed = 0;
  UniqueFunction<int()> f = [t = Tracker(&destroyed)] { return 1; };
  UniqueFunction<int()> g = std::move(f);
  EXPECT_FALSE(f);  // NOLINT(bugprone-use-after-move): documented moved-from state
  ASSERT_TRUE(g);
  EXPECT_EQ(g(), 1);
  EXPECT_EQ(destroyed, 0);
  UniqueFunction<int()> h;
  h = std::move(g);
  EXPECT_EQ(h(), 1);
  EXPECT_EQ(destroyed, 0);
  h = UniqueFunction<int()>();  // releases the capture exactly once
  EXPECT_EQ(destroyed, 1);
}

TEST(UniqueFunctionTest, CaptureDestroyedExactlyOnce) {
  int destroyed = 0;
  {
    std::vector<UniqueFunction<void()>> tasks;
    for (int i = 0; i < 100; ++i)
      tasks.emplace_back([t = Tracker(&destroyed)] {});
    for (auto& t : tasks)
      t();
    EXPECT_EQ(destroyed, 0) << "vector growth must move, not copy-and-destroy, captures";
  }
  EXPECT_EQ(destroyed, 100);
}

TEST(UniqueFunctionTest, ArgumentsAndReferences) {
  UniqueFunction<int(int, int)> add = [](int a, int b) { return a + b; };
  EXPECT_EQ(add(2, 3), 5);
  UniqueFunction<void(int&)> inc = [](int& x) { ++x; };
  int v = 1;
  inc(v);
  EXPECT_EQ(v, 2);
  UniqueFunction<size_t(std::unique_ptr<std::string>)> take = [](std::unique_ptr<std::string> s) {
    return s->size();
  };
  EXPECT_EQ(take(std::make_unique<std::string>("four")), 4u);
  UniqueFunction<std::string(const std::string&)> echo = [](const std::string& s) { return s; };
  EXPECT_EQ(echo("x"), "x");
}

TEST(UniqueFunctionTest, MutableStateIsKept) {
  UniqueFunction<int()> counter = [n = 0]() mutable { return ++n; };
  EXPECT_EQ(counter(), 1);
  EXPECT_EQ(counter(), 2);
  UniqueFunction<int()> moved = std::move(counter);
  EXPECT_EQ(moved(), 3);
}

TEST(UniqueFunctionTest, CopyableLvalueCallableIsCopied) {
  int calls = 0;
  auto fn = [&calls] { ++calls; };
  UniqueFunction<void()> f = fn;  // lvalue: copied into the function
  f();
  fn();
  EXPECT_EQ(calls, 2);
}

TEST(UniqueFunctionTest, FunctionPointer) {
  struct S {
    static int seven() { return 7; }
  };
  UniqueFunction<int()> f = &S::seven;
  EXPECT_EQ(f(), 7);
}

TEST(UniqueFunctionTest, StaticProperties) {
  static_assert(!std::is_copy_constructible_v<UniqueFunction<void()>>);
  static_assert(std::is_move_constructible_v<UniqueFunction<void()>>);
  static_assert(std::is_nothrow_move_constructible_v<UniqueFunction<void()>>);
  static_assert(std::is_move_assignable_v<UniqueFunction<void()>>);
}

}  // namespace
}  // namespace sb
