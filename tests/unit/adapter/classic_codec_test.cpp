// The classic @socket.io/redis-adapter wire format, byte for byte: vectors captured from Node
// (socket.io 4.8.4 + @socket.io/redis-adapter 8.3.0, the reference document §1.2–1.3) or
// produced by the npm notepack.io 3.0.1 encoder.

#include "adapter/classic_codec.h"

#include "adapter/msgpack.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::adapter::classic {
namespace {

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

socketio::PacketSource source(std::string data, std::vector<socketio::Bytes> att = {}) {
  socketio::PacketSource s;
  s.data_json = std::move(data);
  s.attachments = std::move(att);
  return s;
}

// The 75-byte capture of io.to('room1').emit('chat','hello',{from:'A'}) (reference §1.2).
constexpr std::string_view kRoomBroadcast =
    "93a6596346304c5983a474797065 02a464617461 93a463686174a568656c6c6f81a466726f6da141"
    "a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380";

std::string compact(std::string_view h) {
  std::string out;
  for (char c : h)
    if (c != ' ') out.push_back(c);
  return out;
}

TEST(ClassicCodec, Channels) {
  Channels c("socket.io", "/");
  EXPECT_EQ(c.pattern, "socket.io#/#*");
  EXPECT_EQ(c.request, "socket.io-request#/#");
  EXPECT_EQ(c.response, "socket.io-response#/#");
  EXPECT_EQ(c.specific_response("YcF0LY"), "socket.io-response#/#YcF0LY#");
  EXPECT_EQ(c.broadcast_channel({}), "socket.io#/#");
  EXPECT_EQ(c.broadcast_channel({"room1"}), "socket.io#/#room1#");
  EXPECT_EQ(c.broadcast_channel({"a", "b"}), "socket.io#/#");
  EXPECT_EQ(random_uid().size(), 6u);
}

TEST(ClassicCodec, BroadcastMatchesTheNodeCapture) {
  socketio::BroadcastOptions o;
  o.rooms = {"room1"};
  std::string out;
  ASSERT_TRUE(encode_broadcast(out, "YcF0LY", "/", source(R"(["chat","hello",{"from":"A"}])"), o));
  EXPECT_EQ(out.size(), 75u);
  EXPECT_EQ(hex(out), compact(kRoomBroadcast));

  Result<Broadcast> b = decode_broadcast(out);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->uid, "YcF0LY");
  EXPECT_EQ(b->nsp, "/");
  EXPECT_EQ(b->data_json, R"(["chat","hello",{"from":"A"}])");
  EXPECT_EQ(b->opts.rooms, std::vector<std::string>{"room1"});
  EXPECT_TRUE(b->opts.except.empty());
  EXPECT_FALSE(b->opts.volatile_);
}

TEST(ClassicCodec, BinaryBroadcastMatchesNotepack) {
  // notepack.encode(["K1K-qX",{type:2,data:["bin",Buffer<deadbeef>,{n:1.5}],nsp:"/chat"},
  //                 {rooms:["a","b"],except:["x"],flags:{volatile:true}}])
  const std::string want =
      "93a64b314b2d715883a47479706502a46461746193a362696ec404deadbeef81a16ecb3ff8000000000000a36e"
      "7370a52f6368617483a5726f6f6d7392a161a162a665786365707491a178a5666c61677381a8766f6c6174696c"
      "65c3";
  socketio::BroadcastOptions o;
  o.rooms = {"a", "b"};
  o.except = {"x", "x"};  // Node dedups except
  o.flags.volatile_ = true;
  std::string out;
  ASSERT_TRUE(encode_broadcast(
      out, "K1K-qX", "/chat",
      source(R"(["bin",{"_placeholder":true,"num":0},{"n":1.5}])", {{0xde, 0xad, 0xbe, 0xef}}), o));
  EXPECT_EQ(hex(out), want);

  Result<Broadcast> b = decode_broadcast(unhex(want));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->nsp, "/chat");
  EXPECT_EQ(b->data_json, R"(["bin",{"_placeholder":true,"num":0},{"n":1.5}])");
  ASSERT_EQ(b->attachments.size(), 1u);
  EXPECT_EQ(b->attachments[0], (socketio::Bytes{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_TRUE(b->opts.volatile_);
  EXPECT_EQ(b->opts.except, std::vector<std::string>{"x"});
}

TEST(ClassicCodec, BroadcastFromAnEmitterWithKeysInAnotherOrderAndNoNsp) {
  // The emitter writes opts as {rooms, flags, except}; a packet without nsp means "/".
  std::string msg;
  msgpack::Writer w(msg);
  w.array(3);
  w.str("emitter");
  w.map(2);
  w.str("data");
  w.array(2);
  w.str("ev");
  w.integer(-1);
  w.str("type");
  w.integer(2);
  w.map(3);
  w.str("rooms");
  w.array(1);
  w.integer(42);  // io.to(42): numeric rooms reach us as numbers
  w.str("flags");
  w.map(0);
  w.str("except");
  w.array(0);
  Result<Broadcast> b = decode_broadcast(msg);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->uid, "emitter");
  EXPECT_EQ(b->nsp, "/");
  EXPECT_EQ(b->data_json, R"(["ev",-1])");
  EXPECT_EQ(b->opts.rooms, std::vector<std::string>{"42"});
}

TEST(ClassicCodec, MalformedBroadcastsAreErrors) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("\x93", 1), std::string_view("\x92\xa1x\x80", 4),
        std::string_view("\x93\xa1x\x81\xa4type\x02\x80", 11)}) {
    EXPECT_FALSE(decode_broadcast(bad)) << hex(bad);
  }
  // Every truncation of a valid message fails cleanly.
  const std::string good = unhex(compact(kRoomBroadcast));
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(decode_broadcast(good.substr(0, n))) << n;
}

TEST(ClassicCodec, PeekUidReadsOnlyTheFirstElement) {
  const std::string good = unhex(compact(kRoomBroadcast));
  EXPECT_EQ(peek_broadcast_uid(good), "YcF0LY");
  // str8 (0xd9) uid, array16 (0xdc) header: what notepack writes for longer values.
  std::string msg;
  msgpack::Writer w(msg);
  w.array(3);
  w.str(std::string(40, 'u'));
  EXPECT_EQ(peek_broadcast_uid(msg), std::string(40, 'u'));
  const std::string a16 = std::string("\xdc\x00\x03\xa2id", 6);
  EXPECT_EQ(peek_broadcast_uid(a16), "id");
  // Not a broadcast, or cut short: empty, never a read past the end.
  for (size_t n = 0; n < 8; ++n)
    EXPECT_EQ(peek_broadcast_uid(good.substr(0, n)), "") << n;
  EXPECT_EQ(peek_broadcast_uid(good.substr(0, 8)), "YcF0LY");
  EXPECT_EQ(peek_broadcast_uid(std::string_view("\x92\xa1x\x80", 4)), "");     // 2 elements
  EXPECT_EQ(peek_broadcast_uid(std::string_view("\x93\x01\x80\x80", 4)), "");  // not a str
  EXPECT_EQ(peek_broadcast_uid(std::string_view("\xdc\x00", 2)), "");
  EXPECT_EQ(peek_broadcast_uid(std::string_view("\x93\xd9", 2)), "");
  EXPECT_EQ(peek_broadcast_uid("{\"uid\":\"x\"}"), "");
}

TEST(ClassicCodec, DecodeIntoAReusedBroadcastResetsEveryField) {
  socketio::BroadcastOptions o;
  o.rooms = {"r1"};
  o.except = {"x"};
  o.flags.volatile_ = true;
  o.flags.timeout_ms = 50;
  std::string first;
  ASSERT_TRUE(encode_broadcast(first, "AAAAAA", "/chat",
                               source(R"(["a",{"_placeholder":true,"num":0}])", {{1, 2}}), o));
  std::string second;
  ASSERT_TRUE(encode_broadcast(second, "BBBBBB", "/", source(R"(["b"])"), {}));
  Broadcast b;
  ASSERT_TRUE(decode_broadcast(first, b));
  EXPECT_EQ(b.nsp, "/chat");
  ASSERT_EQ(b.attachments.size(), 1u);
  socketio::BroadcastOptions taken = b.opts.take_options();
  EXPECT_EQ(taken.rooms, std::vector<std::string>{"r1"});
  EXPECT_EQ(taken.except, std::vector<std::string>{"x"});
  EXPECT_TRUE(taken.flags.volatile_);
  EXPECT_EQ(taken.flags.timeout_ms, 50u);
  EXPECT_TRUE(b.opts.rooms.empty());
  ASSERT_TRUE(decode_broadcast(second, b));
  EXPECT_EQ(b.uid, "BBBBBB");
  EXPECT_EQ(b.nsp, "/");
  EXPECT_EQ(b.data_json, R"(["b"])");
  EXPECT_TRUE(b.attachments.empty());
  EXPECT_TRUE(b.opts.rooms.empty());
  EXPECT_TRUE(b.opts.except.empty());
  EXPECT_FALSE(b.opts.volatile_);
  EXPECT_FALSE(b.opts.timeout_ms);
}

TEST(ClassicCodec, JsonRequestsMatchTheNodeCapture) {
  socketio::BroadcastOptions room1;
  room1.rooms = {"room1"};
  std::string out;
  encode_fetch_request(out, "YcF0LY", "yv34G1", room1);
  EXPECT_EQ(
      out,
      R"({"uid":"YcF0LY","requestId":"yv34G1","type":5,"opts":{"rooms":["room1"],"except":[]}})");
  out.clear();
  encode_all_rooms_request(out, "YcF0LY", "91Y2PT");
  EXPECT_EQ(out, R"({"uid":"YcF0LY","requestId":"91Y2PT","type":1})");
  out.clear();
  encode_server_side_emit(out, "YcF0LY", {}, R"(["ping-sse","hello-from-A",7])");
  EXPECT_EQ(out, R"({"uid":"YcF0LY","type":6,"data":["ping-sse","hello-from-A",7]})");
  out.clear();
  encode_server_side_emit(out, "YcF0LY", "5Arfjk", R"(["ping-sse","ack-please"])");
  EXPECT_EQ(out,
            R"({"uid":"YcF0LY","requestId":"5Arfjk","type":6,"data":["ping-sse","ack-please"]})");
  out.clear();
  encode_sockets_request(out, RequestType::kRemoteJoin, "YcF0LY", room1, {"room3"}, false);
  EXPECT_EQ(
      out, R"({"uid":"YcF0LY","type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room3"]})");
  out.clear();
  socketio::BroadcastOptions one;
  one.rooms = {"LP8CXPNvoDZoAG9AAAAA"};
  encode_sockets_request(out, RequestType::kRemoteDisconnect, "YcF0LY", one, {}, true);
  EXPECT_EQ(
      out,
      R"({"uid":"YcF0LY","type":4,"opts":{"rooms":["LP8CXPNvoDZoAG9AAAAA"],"except":[]},"close":true})");
}

TEST(ClassicCodec, JsonResponsesMatchTheNodeCapture) {
  std::string out;
  encode_all_rooms_response(out, "91Y2PT", {"LP8CXPNvoDZoAG9AAAAA", "room1"});
  EXPECT_EQ(out, R"({"requestId":"91Y2PT","rooms":["LP8CXPNvoDZoAG9AAAAA","room1"]})");
  out.clear();
  encode_server_side_emit_response(out, "5Arfjk", R"({"from":"B","got":["ack-please"]})");
  EXPECT_EQ(out, R"({"type":6,"requestId":"5Arfjk","data":{"from":"B","got":["ack-please"]}})");
  out.clear();
  encode_client_count(out, "aYj6Vy", 1);
  EXPECT_EQ(out, R"({"type":8,"requestId":"aYj6Vy","clientCount":1})");
  out.clear();
  std::string member;
  append_fetched_socket(member, "LP8CXPNvoDZoAG9AAAAA", {"LP8CXPNvoDZoAG9AAAAA", "room1"},
                        R"({"address":"127.0.0.1"})", R"({"user":"bob"})");
  encode_fetch_response(out, "yv34G1", member);
  EXPECT_EQ(
      out,
      R"({"requestId":"yv34G1","sockets":[{"id":"LP8CXPNvoDZoAG9AAAAA","handshake":{"address":"127.0.0.1"},"rooms":["LP8CXPNvoDZoAG9AAAAA","room1"],"data":{"user":"bob"}}]})");

  Result<Response> r = decode_response(out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->request_id, "yv34G1");
  ASSERT_TRUE(r->has_sockets);
  ASSERT_EQ(r->sockets.size(), 1u);
  EXPECT_EQ(r->sockets[0].id, "LP8CXPNvoDZoAG9AAAAA");
  EXPECT_EQ(r->sockets[0].rooms.size(), 2u);
  EXPECT_EQ(r->sockets[0].handshake_json, R"({"address":"127.0.0.1"})");
  EXPECT_EQ(r->sockets[0].data_json, R"({"user":"bob"})");
}

TEST(ClassicCodec, BroadcastWithAckRequestAndAckAreMessagePack) {
  // notepack.encode({uid:"YcF0LY",requestId:"aYj6Vy",type:7,packet:{type:2,
  //   data:["question",42],nsp:"/"},opts:{rooms:["room1"],except:[],flags:{timeout:3000}}})
  const std::string want_req =
      "85a3756964a6596346304c59a9726571756573744964a661596a365679a47479706507a67061636b657483a474"
      "79706502a46461746192a87175657374696f6e2aa36e7370a12fa46f70747383a5726f6f6d7391a5726f6f6d31"
      "a665786365707490a5666c61677381a774696d656f7574cd0bb8";
  socketio::BroadcastOptions o;
  o.rooms = {"room1"};
  o.flags.timeout_ms = 3000;
  std::string out;
  ASSERT_TRUE(
      encode_broadcast_request(out, "YcF0LY", "aYj6Vy", "/", source(R"(["question",42])"), o));
  EXPECT_EQ(hex(out), want_req);

  Result<Request> q = decode_request(out);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->type, RequestType::kBroadcast);
  EXPECT_EQ(q->uid, "YcF0LY");
  EXPECT_EQ(q->request_id, "aYj6Vy");
  EXPECT_EQ(q->data_json, R"(["question",42])");
  EXPECT_EQ(q->opts.timeout_ms, 3000u);

  // The 49-byte BROADCAST_ACK of the capture.
  out.clear();
  ASSERT_TRUE(encode_broadcast_ack(out, "aYj6Vy", R"({"answer":43,"from":"bob"})"));
  EXPECT_EQ(out.size(), 49u);
  EXPECT_EQ(hex(out),
            "83a47479706509a9726571756573744964a661596a365679a67061636b657482a6616e737765722ba4"
            "66726f6da3626f62");
  Result<Response> r = decode_response(out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, RequestType::kBroadcastAck);
  EXPECT_EQ(r->data_json, R"({"answer":43,"from":"bob"})");
}

TEST(ClassicCodec, DecodesJsonRequestsOfEveryKind) {
  Result<Request> q = decode_request(
      R"({"uid":"YcF0LY","type":3,"opts":{"rooms":["room3"],"except":["z"]},"rooms":["room3"]})");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->type, RequestType::kRemoteLeave);
  EXPECT_TRUE(q->has_opts);
  EXPECT_EQ(q->opts.except, std::vector<std::string>{"z"});
  EXPECT_EQ(q->rooms, std::vector<std::string>{"room3"});

  q = decode_request(R"({"uid":"YcF0LY","requestId":"5Arfjk","type":6,"data":["e",1,{"a":[2]}]})");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->data_json, R"(["e",1,{"a":[2]}])");

  // Legacy (pre-8.0) REMOTE_JOIN by socket id.
  q = decode_request(R"({"requestId":"r","type":2,"sid":"abc","room":"r1"})");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->has_opts);
  EXPECT_EQ(q->sid, "abc");
  EXPECT_EQ(q->room, "r1");

  // Unknown types pass (ignored by the adapter); garbage does not.
  EXPECT_TRUE(decode_request(R"({"uid":"x","type":100})"));
  EXPECT_FALSE(decode_request(R"({"uid":"x"})"));
  EXPECT_FALSE(decode_request(R"({"uid":"x","type":6,"data":[1]})"));
  EXPECT_FALSE(decode_request("{not json"));
  EXPECT_FALSE(decode_request("\xc1"));
  EXPECT_FALSE(decode_request(""));
}

}  // namespace
}  // namespace sb::adapter::classic
