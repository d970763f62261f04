// Outgoing values (Json) and incoming arguments (Args).

#include <gtest/gtest.h>

#include "socketio/args.h"
#include "socketio/json.h"

namespace sb::socketio {
namespace {

std::string encode(std::initializer_list<Json> args, std::vector<Bytes>* atts = nullptr) {
  std::string out;
  std::vector<Bytes> a;
  encode_args(out, std::span<const Json>(args.begin(), args.size()), atts ? *atts : a);
  return out;
}

TEST(Json, EncodesLikeJsonStringify) {
  EXPECT_EQ(encode({Json("a\"b\n"), Json(1), Json(-2), Json(1.5), Json(true), Json(nullptr)}),
            "\"a\\\"b\\n\",1,-2,1.5,true,null");
  EXPECT_EQ(encode({json::object({{"room", "r"}, {"n", json::array({1, "x", nullptr})}})}),
            "{\"room\":\"r\",\"n\":[1,\"x\",null]}");
  EXPECT_EQ(encode({Json::raw("{\"k\":[1]}")}), "{\"k\":[1]}");
  Json o;
  o.set("a", 1).set("b", Json().push_back(2));
  EXPECT_EQ(encode({o}), "{\"a\":1,\"b\":[2]}");
  EXPECT_EQ(encode({}), "");
}

TEST(Json, BinaryLeavesBecomePlaceholdersInOrder) {
  std::vector<Bytes> atts;
  const std::string s =
      encode({Json::binary(Bytes{1}), json::object({{"x", Json::binary(Bytes{2, 3})}})}, &atts);
  EXPECT_EQ(s, "{\"_placeholder\":true,\"num\":0},{\"x\":{\"_placeholder\":true,\"num\":1}}");
  ASSERT_EQ(atts.size(), 2u);
  EXPECT_EQ(atts[1], (Bytes{2, 3}));
}

TEST(Args, SplitsAndReadsForgivingly) {
  const Args a("\"x,y\",{\"room\":\"r\",\"text\":\"hé\"},[1,[2,\"]\"]],12,true,null");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a.str(0), "x,y");
  EXPECT_EQ(a.str(1, "room"), "r");
  EXPECT_EQ(a.str(1, "text"), "hé");
  EXPECT_EQ(a.str(1, "missing"), "");
  EXPECT_EQ(a.field(1, "room"), std::optional<std::string>("\"r\""));
  EXPECT_EQ(a.raw(2), "[1,[2,\"]\"]]");
  EXPECT_EQ(a.integer(3), 12);
  EXPECT_EQ(a.number(3), 12.0);
  EXPECT_EQ(a.boolean(4), true);
  EXPECT_TRUE(a.is_null(5));
  EXPECT_EQ(a.str(3), "");  // not a string
  EXPECT_EQ(a.integer(0), std::nullopt);
  EXPECT_EQ(a.raw(9), "");  // absent
  EXPECT_EQ(Args("").size(), 0u);
}

TEST(Args, BinaryArgumentsAndForwarding) {
  const uint8_t b0[] = {9, 8};
  const std::span<const uint8_t> spans[] = {b0};
  const Args a("{\"_placeholder\":true,\"num\":0},{\"k\":{\"_placeholder\":true,\"num\":0}}",
               spans);
  auto bin = a.binary(0);
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->size(), 2u);
  EXPECT_FALSE(a.binary(1));
  // Forwarded: the placeholder becomes a binary leaf again, renumbered by the new packet.
  std::vector<Bytes> atts;
  std::string out;
  const std::vector<Json> vals = a.values();
  encode_args(out, vals, atts);
  EXPECT_EQ(out, "{\"_placeholder\":true,\"num\":0},{\"k\":{\"_placeholder\":true,\"num\":1}}");
  EXPECT_EQ(atts.size(), 2u);
  const Args copy = a.owned();
  EXPECT_EQ(copy.binary(0)->size(), 2u);
  EXPECT_EQ(copy.json(), a.json());
}

}  // namespace
}  // namespace sb::socketio
