#include "bench/sio_packet.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::bench {
namespace {

TEST(SioPacket, EngineIoPackets) {
  auto f = parse_server_frame(R"(0{"sid":"abc","pingInterval":25000})");
  EXPECT_EQ(f.kind, SioKind::kEioOpen);
  EXPECT_EQ(f.payload, R"({"sid":"abc","pingInterval":25000})");
  EXPECT_EQ(parse_server_frame("1").kind, SioKind::kEioClose);
  f = parse_server_frame("2");
  EXPECT_EQ(f.kind, SioKind::kEioPing);
  EXPECT_EQ(f.ping_data, "");
  f = parse_server_frame("2probe");
  EXPECT_EQ(f.kind, SioKind::kEioPing);
  EXPECT_EQ(f.ping_data, "probe");
  EXPECT_EQ(parse_server_frame("3").kind, SioKind::kEioPong);
  EXPECT_EQ(parse_server_frame("6").kind, SioKind::kEioNoop);
}

TEST(SioPacket, ConnectDisconnectAndError) {
  auto f = parse_server_frame(R"(40{"sid":"x1"})");
  EXPECT_EQ(f.kind, SioKind::kConnect);
  EXPECT_EQ(f.nsp, "/");
  EXPECT_EQ(f.payload, R"({"sid":"x1"})");
  f = parse_server_frame(R"(40/chat,{"sid":"x2"})");
  EXPECT_EQ(f.kind, SioKind::kConnect);
  EXPECT_EQ(f.nsp, "/chat");
  f = parse_server_frame("41");
  EXPECT_EQ(f.kind, SioKind::kDisconnect);
  f = parse_server_frame("41/chat,");
  EXPECT_EQ(f.kind, SioKind::kDisconnect);
  EXPECT_EQ(f.nsp, "/chat");
  f = parse_server_frame("41/chat");
  EXPECT_EQ(f.kind, SioKind::kDisconnect);
  EXPECT_EQ(f.nsp, "/chat");
  f = parse_server_frame(R"(44{"message":"Invalid namespace"})");
  EXPECT_EQ(f.kind, SioKind::kConnectError);
}

TEST(SioPacket, EventWithStringArgument) {
  auto f = parse_server_frame(R"(42["m","0000abc...."])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.event, "m");
  EXPECT_TRUE(f.has_first_arg);
  EXPECT_TRUE(f.first_arg_is_string);
  EXPECT_EQ(f.first_arg, "0000abc....");
  EXPECT_FALSE(f.ack_id.has_value());
}

TEST(SioPacket, EventVariants) {
  // Namespace, ack id, whitespace, escapes in the name, more arguments.
  auto f = parse_server_frame(R"(42/chat,17[ "a\"b" , "x\\y", 3])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.nsp, "/chat");
  ASSERT_TRUE(f.ack_id.has_value());
  EXPECT_EQ(*f.ack_id, 17u);
  EXPECT_EQ(f.event, R"(a\"b)");
  EXPECT_EQ(f.first_arg, R"(x\\y)");
  // Non-string first arguments are given raw.
  f = parse_server_frame(R"(42["m",{"a":[1,"]"],"b":"}"},2])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_FALSE(f.first_arg_is_string);
  EXPECT_EQ(f.first_arg, R"({"a":[1,"]"],"b":"}"})");
  f = parse_server_frame(R"(42["m", 12.5 ])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.first_arg, "12.5");
  f = parse_server_frame(R"(42["m",[1,[2]]])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.first_arg, "[1,[2]]");
  // No argument at all.
  f = parse_server_frame(R"(42["ping"])");
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.event, "ping");
  EXPECT_FALSE(f.has_first_arg);
}

TEST(SioPacket, Ack) {
  auto f = parse_server_frame(R"(4312["stamp"])");
  ASSERT_EQ(f.kind, SioKind::kAck);
  EXPECT_EQ(*f.ack_id, 12u);
  EXPECT_EQ(f.first_arg, "stamp");
  f = parse_server_frame("430[]");
  ASSERT_EQ(f.kind, SioKind::kAck);
  EXPECT_FALSE(f.has_first_arg);
  f = parse_server_frame(R"(43/a,5[null])");
  ASSERT_EQ(f.kind, SioKind::kAck);
  EXPECT_EQ(f.nsp, "/a");
  EXPECT_EQ(f.first_arg, "null");
}

TEST(SioPacket, BinaryPacketsAreRecognised) {
  EXPECT_EQ(parse_server_frame(R"(451-["m",{"_placeholder":true,"num":0}])").kind,
            SioKind::kBinary);
  EXPECT_EQ(parse_server_frame(R"(461-3[{"_placeholder":true,"num":0}])").kind, SioKind::kBinary);
}

TEST(SioPacket, MalformedInput) {
  for (std::string_view bad :
       {"", "4", "5", "9", "47", R"(42)", R"(42[)", R"(42["m")", R"(42["m",)", R"(42["m","x)",
        R"(42[1,2])", R"(42{"a":1})", R"(43["no id"])", "4399999999999999999999[1]", R"(42["m"] x)",
        R"(407{})", R"(42["m",[1,2)", R"(42["m",{"a":"}"})", R"(42[])"}) {
    EXPECT_EQ(parse_server_frame(bad).kind, SioKind::kMalformed) << bad;
  }
}

// Every prefix of a valid packet parses without reading past its end (ASan checks the reads).
TEST(SioPacket, EveryTruncationIsSafe) {
  const std::string full = R"(42/chat,99["m",{"a":["x\"]",2]},"y"])";
  for (size_t n = 0; n <= full.size(); ++n) {
    const std::string part = full.substr(0, n);
    const SioFrame f = parse_server_frame(part);
    if (f.kind == SioKind::kEvent) {
      EXPECT_EQ(n, full.size()) << part;
    }
  }
}

TEST(SioPacket, AppendEmit) {
  std::string out;
  append_emit(out, "/", "b", std::nullopt, "0123abcd....");
  EXPECT_EQ(out, R"(42["b","0123abcd...."])");
  out.clear();
  append_emit(out, "/", "e", 7, "xy");
  EXPECT_EQ(out, R"(427["e","xy"])");
  out.clear();
  append_emit(out, "/chat", "b", std::nullopt, "d", "room1");
  EXPECT_EQ(out, R"(42/chat,["b","d","room1"])");
  // Round trip through the parser.
  const SioFrame f = parse_server_frame(out);
  ASSERT_EQ(f.kind, SioKind::kEvent);
  EXPECT_EQ(f.event, "b");
  EXPECT_EQ(f.first_arg, "d");
}

TEST(SioPacket, NeedsJsonEscape) {
  EXPECT_FALSE(needs_json_escape("abc.012"));
  EXPECT_TRUE(needs_json_escape("a\"b"));
  EXPECT_TRUE(needs_json_escape("a\\b"));
  EXPECT_TRUE(needs_json_escape("a\nb"));
}

TEST(SioPacket, SocketioPath) {
  EXPECT_EQ(socketio_path("/", ""), "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(socketio_path("", "room=r"), "/socket.io/?EIO=4&transport=websocket&room=r");
  EXPECT_EQ(socketio_path("/custom", ""), "/custom/?EIO=4&transport=websocket");
  EXPECT_EQ(socketio_path("/socket.io/?x=1", ""), "/socket.io/?x=1&EIO=4&transport=websocket");
  EXPECT_EQ(socketio_path("/socket.io/?EIO=4&transport=websocket", "room=a"),
            "/socket.io/?EIO=4&transport=websocket&room=a");
}

}  // namespace
}  // namespace sb::bench
