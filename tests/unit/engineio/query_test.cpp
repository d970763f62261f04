#include "engineio/query.h"

#include <gtest/gtest.h>

#include <map>

namespace sb::engineio {
namespace {

TEST(EngineioQuery, ReadsEngineParams) {
  auto q = parse_engine_query("/socket.io/?EIO=4&transport=polling&t=OkX1&sid=a-b_c&x=1");
  EXPECT_EQ(q.eio, "4");
  EXPECT_EQ(q.transport, "polling");
  EXPECT_EQ(q.sid, "a-b_c");
  EXPECT_EQ(q.t, "OkX1");
  EXPECT_FALSE(q.duplicate);
  auto none = parse_engine_query("/socket.io/");
  EXPECT_FALSE(none.eio);
  EXPECT_FALSE(none.transport);
  EXPECT_FALSE(none.sid);
  EXPECT_FALSE(none.t);
}

TEST(EngineioQuery, PercentDecoding) {
  auto q = parse_engine_query("?EIO=%34&transport=web%73ocket&sid=a%2Bb+c&t=%zz%4");
  EXPECT_EQ(q.eio, "4");
  EXPECT_EQ(q.transport, "websocket");
  EXPECT_EQ(q.sid, "a+b c");
  EXPECT_EQ(q.t, "%zz%4");  // malformed escapes kept, like Node's querystring
  std::string out;
  percent_decode("%e2%82%AC%", out);
  EXPECT_EQ(out, "\xe2\x82\xac%");
}

TEST(EngineioQuery, EdgeCases) {
  auto q = parse_engine_query("EIO&transport=&&sid=1#frag&t=2");
  EXPECT_EQ(q.eio, "");
  EXPECT_EQ(q.transport, "");
  EXPECT_EQ(q.sid, "1");
  EXPECT_FALSE(q.t);  // after the fragment
  EXPECT_TRUE(parse_engine_query("?EIO=4&EIO=3").duplicate);
  EXPECT_TRUE(parse_engine_query("?sid=a&sid=a").duplicate);
  EXPECT_FALSE(parse_engine_query("?x=1&x=2").duplicate);
  EXPECT_FALSE(parse_engine_query("?eio=4").eio);  // keys are case-sensitive
}

TEST(EngineioQuery, ForEachParam) {
  std::map<std::string, std::string> m;
  for_each_query_param("/p?a=1&b=%20x&c&=v&a=2", [&](std::string_view k, std::string_view v) {
    m[std::string(k)] += std::string(v) + ";";
  });
  EXPECT_EQ(m["a"], "1;2;");
  EXPECT_EQ(m["b"], " x;");
  EXPECT_EQ(m["c"], ";");
  EXPECT_EQ(m[""], "v;");
}

}  // namespace
}  // namespace sb::engineio
