// Cookie parsing for cookie mode, and the Set-Cookie it writes.

#include "lb/cookie.h"

#include <gtest/gtest.h>

namespace sb::lb {
namespace {

TEST(Cookie, FindsOursAmongOthers) {
  EXPECT_EQ(find_cookie("sblb=abc", "sblb"), "abc");
  EXPECT_EQ(find_cookie("a=1; sblb=abc; b=2", "sblb"), "abc");
  EXPECT_EQ(find_cookie("a=1;sblb=abc", "sblb"), "abc");
  EXPECT_EQ(find_cookie("  sblb = abc  ", "sblb"), "abc");
  EXPECT_EQ(find_cookie("sblb=\"abc\"", "sblb"), "abc");
  EXPECT_EQ(find_cookie("sblb=", "sblb"), "");
  EXPECT_EQ(find_cookie("x=1; sblb=first; sblb=second", "sblb"), "first");
}

TEST(Cookie, AbsentOrMalformed) {
  EXPECT_FALSE(find_cookie("", "sblb"));
  EXPECT_FALSE(find_cookie("SBLB=abc", "sblb"));  // names are case-sensitive
  EXPECT_FALSE(find_cookie("xsblb=abc; sblbx=1", "sblb"));
  EXPECT_FALSE(find_cookie("sblb", "sblb"));
  EXPECT_FALSE(find_cookie(";;;", "sblb"));
  EXPECT_FALSE(find_cookie("a=sblb=1", "sblb"));
}

TEST(Cookie, SetCookieHeader) {
  EXPECT_EQ(set_cookie_header("sblb", "00ff", "Path=/; HttpOnly"),
            "Set-Cookie: sblb=00ff; Path=/; HttpOnly");
  EXPECT_EQ(set_cookie_header("sblb", "00ff", ""), "Set-Cookie: sblb=00ff");
}

}  // namespace
}  // namespace sb::lb
