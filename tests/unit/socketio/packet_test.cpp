// Socket.IO packet decoding: the grammar, every per-type payload rule, limits.

#include "socketio/packet.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::socketio {
namespace {

Packet ok(std::string_view text, const DecodeLimits& limits = {}) {
  auto p = decode_packet(text, limits);
  EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().reason);
  return p ? std::move(*p) : Packet{};
}

std::string err(std::string_view text, const DecodeLimits& limits = {}) {
  auto p = decode_packet(text, limits);
  EXPECT_FALSE(p) << text;
  return p ? std::string("<accepted>") : std::string(p.error().reason);
}

std::string nested(int depth) {  // an EVENT whose payload has `depth` levels
  return "2[\"d\"," + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "]";
}

TEST(SocketioPacket, Event) {
  Packet p = ok(R"(2["chat",{"room":"a","text":"hello world"}])");
  EXPECT_EQ(p.type, PacketType::kEvent);
  EXPECT_EQ(p.nsp, "/");
  EXPECT_FALSE(p.id);
  EXPECT_EQ(p.event, "chat");
  EXPECT_EQ(p.args, R"({"room":"a","text":"hello world"})");
  EXPECT_EQ(p.data, R"(["chat",{"room":"a","text":"hello world"}])");

  p = ok(R"(2/admin,13["foo",1,"x",[2]])");
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.id, 13u);
  EXPECT_EQ(p.event, "foo");
  EXPECT_EQ(p.args, R"(1,"x",[2])");

  p = ok(R"(2["ping"])");
  EXPECT_EQ(p.args, "");
  p = ok(R"(2 [ "a\"]" , 1 ] )");
  EXPECT_EQ(p.event, "a\"]");
  EXPECT_EQ(p.args, "1");
  p = ok(R"(2["\u0063hat\n"])");
  EXPECT_EQ(p.event, "chat\n");
  p = ok(R"(2["error",{}])");  // `error` is an ordinary event
  EXPECT_EQ(p.event, "error");
  p = ok("29007199254740991[\"a\"]");
  EXPECT_EQ(p.id, 9007199254740991u);
  p = ok("2007[\"a\"]");
  EXPECT_EQ(p.id, 7u);
}

TEST(SocketioPacket, NumericEventName) {  // accepted by socket.io-parser
  Packet p = ok("2[42,\"x\"]");
  EXPECT_TRUE(p.numeric_event);
  EXPECT_EQ(p.event, "42");
  EXPECT_EQ(p.args, "\"x\"");
  p = ok("2[-1.5e3]");
  EXPECT_EQ(p.event, "-1.5e3");
  EXPECT_EQ(p.args, "");
}

TEST(SocketioPacket, Namespaces) {
  EXPECT_EQ(ok("0/custom").nsp, "/custom");
  EXPECT_EQ(ok("0/custom,").nsp, "/custom");
  EXPECT_EQ(ok("1/admin,").nsp, "/admin");
  EXPECT_EQ(ok("2/,[\"a\"]").nsp, "/");
  EXPECT_EQ(ok("2/a/b?x=1,[\"a\"]").nsp, "/a/b?x=1");
  EXPECT_EQ(ok("2/\xc3\xa9,[\"a\"]").nsp, "/\xc3\xa9");
  EXPECT_EQ(err("2/\xff,[\"a\"]"), "bad namespace");
  EXPECT_EQ(err("2admin,[\"a\"]"), "invalid JSON payload");
  EXPECT_EQ(err("2/admin[\"a\"]"), "invalid payload");  // no comma: all of it is the namespace
}

TEST(SocketioPacket, ConnectDisconnectConnectError) {
  Packet p = ok("0");
  EXPECT_EQ(p.type, PacketType::kConnect);
  EXPECT_EQ(p.data, "");
  p = ok(R"(0/admin,{"token":"1"})");
  EXPECT_EQ(p.data, R"({"token":"1"})");
  p = ok("1");
  EXPECT_EQ(p.type, PacketType::kDisconnect);
  p = ok(R"(4/random,{"message":"Invalid namespace"})");
  EXPECT_EQ(p.type, PacketType::kConnectError);
  EXPECT_EQ(p.nsp, "/random");
  ok(R"(4"plain string")");
  ok("4");
  for (auto bad :
       {"0\"abc\"", "0[]", "0null", "01{}", "1{}", "1/a,{}", "1/a,2", "4[]", "41", "4 1"}) {
    EXPECT_NE(err(bad), "<accepted>") << bad;
  }
}

TEST(SocketioPacket, Ack) {
  Packet p = ok("3/admin,13[\"bar\",{\"x\":1}]");
  EXPECT_EQ(p.type, PacketType::kAck);
  EXPECT_EQ(p.id, 13u);
  EXPECT_EQ(p.args, "\"bar\",{\"x\":1}");
  EXPECT_EQ(ok("31[]").args, "");
  EXPECT_EQ(ok("31[ ]").args, "");
  EXPECT_EQ(err("3[]"), "ack without id");
  EXPECT_EQ(err("31"), "invalid payload");
  EXPECT_EQ(err("31{}"), "invalid payload");
  EXPECT_EQ(err("31\"a\""), "invalid payload");
}

TEST(SocketioPacket, BadInputs) {
  EXPECT_EQ(err(""), "empty packet");
  EXPECT_EQ(err("7"), "unknown packet type");
  EXPECT_EQ(err("a"), "unknown packet type");
  EXPECT_EQ(err("-"), "unknown packet type");
  EXPECT_EQ(err("2"), "invalid payload");
  EXPECT_EQ(err("2[]"), "invalid payload");
  EXPECT_EQ(err("2{}"), "invalid payload");
  EXPECT_EQ(err("2\"chat\""), "invalid payload");
  EXPECT_EQ(err("2[null]"), "invalid payload");
  EXPECT_EQ(err("2[true,1]"), "invalid payload");
  EXPECT_EQ(err("2[{\"a\":1}]"), "invalid payload");
  EXPECT_EQ(err("2[[\"a\"]]"), "invalid payload");
  EXPECT_EQ(err("29007199254740992[\"a\"]"), "ack id too large");
  EXPECT_EQ(err("2184467440737095516160[\"a\"]"), "ack id too large");
  EXPECT_EQ(err("2[\"a\"]x"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\"] []"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\",]"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\""), "invalid JSON payload");
  EXPECT_EQ(err("2[\"\xff\"]"), "invalid JSON payload");  // invalid UTF-8 in a string
  EXPECT_EQ(err("2abc"), "invalid JSON payload");
  EXPECT_EQ(err("2-[\"a\"]"), "invalid JSON payload");
}

TEST(SocketioPacket, ReservedNames) {
  for (auto name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                    "removeListener"}) {
    EXPECT_TRUE(is_reserved_event(name));
    EXPECT_EQ(err("2[\"" + std::string(name) + "\",1]"), "reserved event name");
    EXPECT_EQ(err("51-[\"" + std::string(name) + "\",{\"_placeholder\":true,\"num\":0}]"),
              "reserved event name");
  }
  EXPECT_EQ(err("2[\"\\u0063onnect\"]"), "reserved event name");  // checked after unescaping
  EXPECT_FALSE(is_reserved_event("error"));
  EXPECT_FALSE(is_reserved_event("Connect"));
  ok("2[\"connected\"]");
}

TEST(SocketioPacket, DepthLimit) {
  EXPECT_EQ(ok(nested(64)).event, "d");
  EXPECT_EQ(err(nested(65)), "JSON nesting too deep");
  EXPECT_EQ(decode_packet(nested(65)).error().code, Errc::kTooLarge);
  EXPECT_EQ(err(nested(100000)), "JSON nesting too deep");  // no recursion anywhere
  ok("0{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}");
  EXPECT_EQ(err("0{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}"),
            "JSON nesting too deep");
  DecodeLimits shallow{.max_depth = 2};
  ok("2[\"a\",[1]]", shallow);
  EXPECT_EQ(err("2[\"a\",[[1]]]", shallow), "JSON nesting too deep");
  ok(nested(64));  // the per-thread parser switches back
  // Innermost containers with content count the same as empty ones.
  ok("2[\"d\"," + std::string(63, '[') + "1" + std::string(63, ']') + "]");
  EXPECT_EQ(err("2[\"d\"," + std::string(64, '[') + "1" + std::string(64, ']') + "]"),
            "JSON nesting too deep");
  ok("2[\"a\",{\"b\":{\"c\":1}}]", {.max_depth = 3});
  EXPECT_EQ(err("2[\"a\",{\"b\":{\"c\":[]}}]", {.max_depth = 3}), "JSON nesting too deep");
  // Brackets inside strings do not count; escaped quotes do not end strings.
  ok("2[\"" + std::string(100, '[') + "\\\"{\"]");
}

TEST(SocketioPacket, NumbersBeyondSimdjsonRange) {  // JSON.parse accepts them all
  Packet p = ok("2[\"big\",123456789012345680000,-99999999999999999999999,1e400,-1E+999]");
  EXPECT_EQ(p.event, "big");
  EXPECT_EQ(p.args, "123456789012345680000,-99999999999999999999999,1e400,-1E+999");
  EXPECT_EQ(ok("2[1e400]").event, "1e400");
  ok("31[18446744073709551616]");
  ok("0{\"n\":99999999999999999999}");
  EXPECT_EQ(err("2[\"a\",0123456789012345678901]"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\",1.e400]"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\",--1e400]"), "invalid JSON payload");
  EXPECT_EQ(err("2[\"a\",1e400x]"), "invalid JSON payload");
  EXPECT_EQ(err("51-[\"a\",{\"_placeholder\":true,\"num\":1e400}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\",{\"_placeholder\":true,\"num\":99999999999999999999}]"),
            "bad placeholder");
}

TEST(SocketioPacket, BinaryHeaders) {
  Packet p = ok(R"(51-["baz",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(p.type, PacketType::kBinaryEvent);
  EXPECT_EQ(p.attachment_count, 1u);
  EXPECT_EQ(p.event, "baz");
  EXPECT_EQ(p.args, R"({"_placeholder":true,"num":0})");
  p = ok(R"(61-/x,15[{"_placeholder":true,"num":0}])");
  EXPECT_EQ(p.type, PacketType::kBinaryAck);
  EXPECT_EQ(p.nsp, "/x");
  EXPECT_EQ(p.id, 15u);
  ok(R"(52-["a",{"n":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}])");
  ok(R"(51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])");  // reused
  ok(R"(51-["a",{"_placeholder":true,"num":0.0}])");
  std::string ten = "510-[\"a\"";
  for (int i = 0; i < 10; ++i)
    ten += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
  EXPECT_EQ(ok(ten + "]").attachment_count, 10u);
}

TEST(SocketioPacket, BadBinaryHeaders) {
  EXPECT_EQ(err("5-[\"a\"]"), "illegal attachments");
  EXPECT_EQ(err("50-[\"a\"]"), "illegal attachments");
  EXPECT_EQ(err("51[\"a\"]"), "illegal attachments");
  EXPECT_EQ(err("5a-[\"a\"]"), "illegal attachments");
  EXPECT_EQ(err("51"), "illegal attachments");
  EXPECT_EQ(err("5"), "illegal attachments");
  EXPECT_EQ(err("511-[\"a\"]"), "too many attachments");
  EXPECT_EQ(decode_packet("511-[\"a\"]").error().code, Errc::kTooLarge);
  EXPECT_EQ(err("599999999999999999999999-[\"a\"]"), "too many attachments");
  EXPECT_EQ(err("53-[\"a\"]", {.max_depth = 64, .max_attachments = 2}), "too many attachments");
  EXPECT_EQ(err("61-[]"), "ack without id");
  EXPECT_EQ(err("51-"), "invalid payload");
  const std::string ph = "{\"_placeholder\":true,\"num\":";
  EXPECT_EQ(err("51-[\"a\"," + ph + "1}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\"," + ph + "-1}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\"," + ph + "\"0\"}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\"," + ph + "0.5}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\"," + ph + "null}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\"," + ph + "1e300}]"), "bad placeholder");
  EXPECT_EQ(err("51-[\"a\",{\"_placeholder\":true}]"), "bad placeholder");
  EXPECT_EQ(err("52-[\"a\"," + ph + "0}]"), "attachment not referenced");
  EXPECT_EQ(err("51-[\"a\"]"), "attachment not referenced");
  EXPECT_EQ(err("51-[\"a\",{\"_placeholder\":false,\"num\":0}]"), "attachment not referenced");
  EXPECT_EQ(err("51-[" + ph + "0}]"), "invalid payload");  // the name cannot be binary
}

TEST(SocketioPacket, PlaceholdersAreDataInTextEvents) {
  Packet p = ok(R"(2["a",{"_placeholder":true,"num":5}])");
  EXPECT_EQ(p.attachment_count, 0u);
}

TEST(SocketioPacket, PaddedInputParsesInPlace) {
  std::string buf = R"(2["chat",1])";
  const size_t n = buf.size();
  buf.append(64, '\0');  // >= SIMDJSON_PADDING
  auto p = decode_packet(std::string_view(buf.data(), n), {}, true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->event, "chat");
  EXPECT_EQ(p->args, "1");
}

}  // namespace
}  // namespace sb::socketio
