// Result<T> / Result<void> / Errc: the data path's error type.

#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace sb {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error{Errc::kProtocol, "not a digit"};
  return c - '0';
}

Result<void> check(bool ok) {
  if (!ok) return Error{Errc::kTooLarge, "over the limit"};
  return {};
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = parse_digit('7');
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
  *r = 8;
  EXPECT_EQ(r.value(), 8);
  const Result<int>& cr = r;
  EXPECT_EQ(cr.value(), 8);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = parse_digit('x');
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, Errc::kProtocol);
  EXPECT_EQ(r.error().reason, "not a digit");
}

TEST(ResultTest, ValueOnErrorThrows) {
  // Misuse is loud (std::get on the wrong alternative), never silently wrong.
  Result<int> r = parse_digit('x');
  EXPECT_THROW((void)r.value(), std::bad_variant_access);
  Result<int> ok = parse_digit('1');
  EXPECT_THROW((void)ok.error(), std::bad_variant_access);
}

TEST(ResultTest, OperatorArrow) {
  Result<std::string> r = std::string("hello");
  EXPECT_EQ(r->size(), 5u);
  r->append("!");
  EXPECT_EQ(*r, "hello!");
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r.value());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 42);
  Result<std::unique_ptr<int>> moved = std::move(r);
  EXPECT_TRUE(moved.ok());
}

TEST(ResultTest, BoolValueIsNotConfusedWithOk) {
  Result<bool> f = false;
  EXPECT_TRUE(f.ok()) << "operator bool means ok(), not the value";
  EXPECT_FALSE(f.value());
  Result<bool> e = Error{Errc::kIo, "io"};
  EXPECT_FALSE(e.ok());
}

TEST(ResultTest, CopyAndAssign) {
  Result<std::string> a = std::string("a");
  Result<std::string> b = a;
  EXPECT_EQ(*b, "a");
  b = Error{Errc::kClosed, "gone"};
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::kClosed);
  b = a;
  EXPECT_TRUE(b.ok());
}

TEST(ResultTest, VoidResult) {
  Result<void> ok = check(true);
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  Result<void> bad = check(false);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kTooLarge);
  EXPECT_EQ(bad.error().reason, "over the limit");
  Result<void> dflt;
  EXPECT_TRUE(dflt.ok());
}

TEST(ResultTest, ErrorDefaults) {
  Error e;
  EXPECT_EQ(e.code, Errc::kProtocol);
  EXPECT_TRUE(e.reason.empty());
}

TEST(ResultTest, ErrcNames) {
  EXPECT_EQ(errc_name(Errc::kOk), "ok");
  EXPECT_EQ(errc_name(Errc::kNeedMore), "need-more");
  EXPECT_EQ(errc_name(Errc::kProtocol), "protocol");
  EXPECT_EQ(errc_name(Errc::kTooLarge), "too-large");
  EXPECT_EQ(errc_name(Errc::kUnsupported), "unsupported");
  EXPECT_EQ(errc_name(Errc::kInvalidArgument), "invalid-argument");
  EXPECT_EQ(errc_name(Errc::kIo), "io");
  EXPECT_EQ(errc_name(Errc::kClosed), "closed");
  EXPECT_EQ(errc_name(static_cast<Errc>(999)), "unknown");
}

TEST(ResultTest, StaticProperties) {
  static_assert(std::is_nothrow_move_constructible_v<Result<int>>);
  static_assert(!std::is_copy_constructible_v<Result<std::unique_ptr<int>>>);
  static_assert(std::is_trivially_copyable_v<Error>);
  static_assert(sizeof(Error) <= 24, "Error must stay a small value");
}

}  // namespace
}  // namespace sb
