#include "engineio/json_writer.h"

#include <gtest/gtest.h>

namespace sb::engineio {
namespace {

std::string str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
std::string num(double v) {
  std::string out;
  append_json_number(out, v);
  return out;
}

TEST(JsonWriter, EscapesLikeJsonStringify) {
  EXPECT_EQ(str(""), R"("")");
  EXPECT_EQ(str("a\"b\\c/"), R"("a\"b\\c/")");
  EXPECT_EQ(str(std::string("\b\f\n\r\t\x00\x01\x1f", 8)), R"("\b\f\n\r\t\u0000\u0001\u001f")");
  EXPECT_EQ(str("\x7f"), "\"\x7f\"");
  EXPECT_EQ(str("\xe2\x80\xa8\xe2\x80\xa9"), "\"\xe2\x80\xa8\xe2\x80\xa9\"");  // U+2028/9 as is
  EXPECT_EQ(str("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, NumbersLikeJavaScript) {
  EXPECT_EQ(num(0), "0");
  EXPECT_EQ(num(-0.0), "0");
  EXPECT_EQ(num(1.5), "1.5");
  EXPECT_EQ(num(-1.5e-10), "-1.5e-10");
  EXPECT_EQ(num(1e21), "1e+21");
  EXPECT_EQ(num(1e20), "100000000000000000000");
  EXPECT_EQ(num(1e-7), "1e-7");
  EXPECT_EQ(num(1e-6), "0.000001");
  EXPECT_EQ(num(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(num(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(num(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(num(5e-324), "5e-324");
  EXPECT_EQ(num(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(num(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(num(-std::numeric_limits<double>::infinity()), "null");
  std::string out;
  append_json_number(out, int64_t{-42});
  append_json_number(out, uint64_t{18446744073709551615u});
  EXPECT_EQ(out, "-4218446744073709551615");
}

TEST(JsonWriter, Structures) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("a").begin_array().number(1).string("x").null().boolean(false);
  w.begin_object().end_object().begin_array().end_array().end_array();
  w.key("b").raw(R"({"r":1})").key("c").number(0.5).end_object();
  EXPECT_EQ(out, R"({"a":[1,"x",null,false,{},[]],"b":{"r":1},"c":0.5})");
  std::string deep;
  JsonWriter d(deep);
  for (int i = 0; i < 70; ++i)
    d.begin_array();
  for (int i = 0; i < 70; ++i)
    d.end_array();
  EXPECT_EQ(deep, std::string(70, '[') + std::string(70, ']'));
}

}  // namespace
}  // namespace sb::engineio
