#include "socketio/encoder.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "socketio/packet.h"

namespace sb::socketio {
namespace {

TEST(SocketioEncoder, Events) {
  std::string out;
  encode_event(out, "/", "chat", R"({"room":"a","text":"hello world"})");
  EXPECT_EQ(out, R"(2["chat",{"room":"a","text":"hello world"}])");
  out.clear();
  encode_event(out, "/admin", "foo", "", 13);
  EXPECT_EQ(out, R"(2/admin,13["foo"])");
  out.clear();
  encode_event(out, "", "q\"\n\xe2\x80\xa8", "1", 0);
  EXPECT_EQ(out, "20[\"q\\\"\\n\xe2\x80\xa8\",1]");
  out.clear();
  encode_event(out, "/", "baz", R"({"_placeholder":true,"num":0})", {}, 1);
  EXPECT_EQ(out, R"(51-["baz",{"_placeholder":true,"num":0}])");
}

TEST(SocketioEncoder, ForwardsDecodedArgsUnchanged) {
  const std::string in = R"(2/r,7["msg",{"a" : [1,2]}, "x\u00e9"])";
  auto p = decode_packet(in);
  ASSERT_TRUE(p);
  std::string out;
  encode_event(out, p->nsp, p->event, p->args, p->id);
  EXPECT_EQ(out, R"(2/r,7["msg",{"a" : [1,2]}, "x\u00e9"])");
}

TEST(SocketioEncoder, OtherTypes) {
  std::string out;
  encode_ack(out, "/", 1, "");
  EXPECT_EQ(out, "31[]");
  out.clear();
  encode_ack(out, "/admin", 13, R"("bar")");
  EXPECT_EQ(out, R"(3/admin,13["bar"])");
  out.clear();
  encode_ack(out, "/", 15, R"({"_placeholder":true,"num":0})", 1);
  EXPECT_EQ(out, R"(61-15[{"_placeholder":true,"num":0}])");
  out.clear();
  encode_connect(out, "/");
  encode_connect(out, "/admin", R"({"token":"1"})");
  EXPECT_EQ(out, R"(00/admin,{"token":"1"})");
  out.clear();
  encode_connect_reply(out, "/", "yriF");
  EXPECT_EQ(out, R"(0{"sid":"yriF"})");
  out.clear();
  encode_connect_reply(out, "/c", "s", "p");
  EXPECT_EQ(out, R"(0/c,{"sid":"s","pid":"p"})");
  out.clear();
  encode_connect_error(out, "/random", "Invalid namespace");
  EXPECT_EQ(out, R"(4/random,{"message":"Invalid namespace"})");
  out.clear();
  encode_connect_error(out, "/priv", "not authorized", R"({"reason":"x"})");
  EXPECT_EQ(out, R"(4/priv,{"message":"not authorized","data":{"reason":"x"}})");
  out.clear();
  encode_disconnect(out, "/");
  encode_disconnect(out, "/admin");
  EXPECT_EQ(out, "11/admin,");
}

TEST(SocketioEncoder, TransportForms) {
  EncodedPacket t = encode_for_transports(R"(2["a"])");
  EXPECT_EQ(t.text, R"(42["a"])");
  EXPECT_EQ(t.polling(), R"(42["a"])");
  EXPECT_TRUE(t.attachments.empty());
  EXPECT_EQ(t.text_header.size, 2);
  EXPECT_EQ(t.text_header.bytes[0], 0x81);  // FIN + text
  EXPECT_EQ(t.text_header.bytes[1], t.text.size());

  std::string pkt;
  std::string args;
  append_placeholder(args, 0);
  args += R"(,{"nested":)";
  append_placeholder(args, 1);
  args += "}";
  encode_event(pkt, "/", "binreply", args, {}, 2);
  EncodedPacket b = encode_for_transports(pkt, {{1, 2, 3}, {4}});
  EXPECT_EQ(b.polling(),
            "452-[\"binreply\",{\"_placeholder\":true,\"num\":0},{\"nested\":{\"_placeholder\":"
            "true,\"num\":1}}]\x1e"
            "bAQID\x1e"
            "bBA==");
  ASSERT_EQ(b.attachment_headers.size(), 2u);
  EXPECT_EQ(b.attachment_headers[0].bytes[0], 0x82);  // FIN + binary
  EXPECT_EQ(b.attachment_headers[0].bytes[1], 3);
  std::vector<uint8_t> big(70000, 1);
  EncodedPacket large = encode_for_transports("6-", {big});
  EXPECT_EQ(large.attachment_headers[0].size, 10);
  EXPECT_EQ(large.polling().size(), 3 + 2 + base64_encoded_size(big.size()));
}

}  // namespace
}  // namespace sb::socketio
