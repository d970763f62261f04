// The subscriber's fast path for message pushes (push_parser.h), sans-I/O: what it takes, what it
// leaves to the general reader, every split of the input, and the reader's idle() it relies on.

#include "redis/push_parser.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <string_view>

#include "redis/reply_reader.h"

namespace sb::redis {
namespace {

using namespace std::string_literals;

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string kMessage = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n";
// A binary payload with CR LF and NUL inside: the length decides, not the bytes.
const std::string kPMessage =
    "*4\r\n$8\r\npmessage\r\n$4\r\nsio*\r\n$5\r\nsio#/\r\n$6\r\na\r\n\0bc\r\n"s;
const std::string kSMessage = "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$0\r\n\r\n";

TEST(PushParser, ParsesEachKindInPlace) {
  PubSubMessage m{};
  ASSERT_EQ(parse_push(bytes(kMessage), m), kMessage.size());
  EXPECT_EQ(m.kind, PubSubMessage::Kind::kMessage);
  EXPECT_EQ(m.channel, "ch");
  EXPECT_EQ(m.payload, "hello");
  EXPECT_EQ(m.payload.data(), kMessage.data() + kMessage.size() - 7);  // a view, not a copy

  ASSERT_EQ(parse_push(bytes(kPMessage), m), kPMessage.size());
  EXPECT_EQ(m.kind, PubSubMessage::Kind::kPMessage);
  EXPECT_EQ(m.pattern, "sio*");
  EXPECT_EQ(m.channel, "sio#/");
  EXPECT_EQ(m.payload, "a\r\n\0bc"s);

  ASSERT_EQ(parse_push(bytes(kSMessage), m), kSMessage.size());
  EXPECT_EQ(m.kind, PubSubMessage::Kind::kSMessage);
  EXPECT_EQ(m.pattern, "");
  EXPECT_EQ(m.channel, "s");
  EXPECT_EQ(m.payload, "");
}

TEST(PushParser, TakesOneMessageFromABatch) {
  const std::string two = kMessage + kPMessage;
  PubSubMessage m{};
  const size_t n = parse_push(bytes(two), m);
  ASSERT_EQ(n, kMessage.size());
  ASSERT_EQ(parse_push(bytes(two).subspan(n), m), kPMessage.size());
  EXPECT_EQ(m.pattern, "sio*");
}

TEST(PushParser, EveryCutIsLeftToTheReader) {
  for (const std::string& whole : {kMessage, kPMessage, kSMessage}) {
    for (size_t n = 0; n < whole.size(); ++n) {
      PubSubMessage m{};
      EXPECT_EQ(parse_push(bytes(std::string_view(whole).substr(0, n)), m), 0u) << n;
    }
  }
}

TEST(PushParser, LeavesEverythingElseToTheReader) {
  for (const std::string& other :
       {"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"s,    // a confirmation
        "*3\r\n$10\r\npsubscribe\r\n$2\r\nch\r\n:1\r\n"s,  // another one
        "-ERR wrong\r\n"s, ":1\r\n"s, "+OK\r\n"s, "$5\r\nhello\r\n"s,
        "*4\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n$1\r\ny\r\n"s,  // wrong arity
        "*3\r\n$8\r\npmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"s,            // pmessage needs 4
        "*3\r\n$7\r\nmessage\r\n$-1\r\n$1\r\nx\r\n"s,                  // nil element
        "*3\r\n$7\r\nmessage\r\n:1\r\n$1\r\nx\r\n"s,                   // integer element
        "*3\r\n$7\r\nmessage\r\n$2\r\nchXX$1\r\nx\r\n"s,               // no CR LF after data
        "*3\r\n$7\r\nmessage\r\n$99999999999\r\nx\r\n"s,               // absurd length
        "*03x\r\n"s, "*\r\n"s}) {
    PubSubMessage m{};
    EXPECT_EQ(parse_push(bytes(other), m), 0u) << other;
  }
}

// The client uses the fast path only when the reader is idle: nothing buffered and no reply half
// parsed (hiredis consumes an array element by element, so "nothing buffered" is not enough).
TEST(PushParser, ReaderIdleMeansNoReplyUnderWay) {
  ReplyReader r;
  EXPECT_TRUE(r.idle());
  ASSERT_TRUE(r.feed(std::string_view(kMessage).substr(0, 17)));  // through "message\r\n"
  auto none = r.next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(r.idle());
  ASSERT_TRUE(r.feed(std::string_view(kMessage).substr(17)));
  auto one = r.next();
  ASSERT_TRUE(one);
  ASSERT_TRUE(one->has_value());
  auto again = r.next();
  ASSERT_TRUE(again);
  EXPECT_TRUE(r.idle());
}

}  // namespace
}  // namespace sb::redis
