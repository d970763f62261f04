// The reply reader (hiredis's parser building our Reply) and the command encoder, sans-I/O.

#include "redis/reply_reader.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "redis/command.h"

namespace sb::redis {
namespace {

using namespace std::string_literals;

std::vector<Reply> parse_all(std::string_view wire) {
  ReplyReader r;
  EXPECT_TRUE(r.feed(wire).ok());
  std::vector<Reply> out;
  for (;;) {
    auto n = r.next();
    EXPECT_TRUE(n.ok());
    if (!n.ok() || !n->has_value()) break;
    out.push_back(std::move(**n));
  }
  return out;
}

// Every split point (and byte-at-a-time) must give the same replies as one feed.
std::vector<Reply> parse_split(std::string_view wire, size_t split) {
  ReplyReader r;
  std::vector<Reply> out;
  auto drain = [&] {
    for (;;) {
      auto n = r.next();
      EXPECT_TRUE(n.ok());
      if (!n.ok() || !n->has_value()) return;
      out.push_back(std::move(**n));
    }
  };
  EXPECT_TRUE(r.feed(wire.substr(0, split)).ok());
  drain();
  EXPECT_TRUE(r.feed(wire.substr(split)).ok());
  drain();
  return out;
}

TEST(ReplyReader, Scalars) {
  auto v = parse_all("+OK\r\n-ERR bad thing\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n");
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v[0].type, Reply::Type::kStatus);
  EXPECT_TRUE(v[0].is("OK"));
  EXPECT_TRUE(v[1].is_error());
  EXPECT_EQ(v[1].str, "ERR bad thing");
  EXPECT_EQ(v[2].type, Reply::Type::kInteger);
  EXPECT_EQ(v[2].integer, 42);
  EXPECT_EQ(v[3].integer, -7);
  EXPECT_EQ(v[4].type, Reply::Type::kString);
  EXPECT_EQ(v[4].str, "hello");
  EXPECT_EQ(v[5].type, Reply::Type::kNil);
  EXPECT_EQ(v[6].type, Reply::Type::kString);
  EXPECT_EQ(v[6].str, "");
}

TEST(ReplyReader, BinarySafeBulk) {
  std::string payload = "a\0b\r\nc\xff"s;
  std::string wire = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  auto v = parse_all(wire);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].str, payload);
  EXPECT_EQ(v[0].str.size(), 7u);
}

TEST(ReplyReader, Arrays) {
  auto v = parse_all(
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\np\0q\r\n"s
      "*0\r\n*-1\r\n"
      "*2\r\n*2\r\n:1\r\n$-1\r\n*1\r\n+x\r\n");
  ASSERT_EQ(v.size(), 4u);
  ASSERT_EQ(v[0].type, Reply::Type::kArray);
  ASSERT_EQ(v[0].elements.size(), 3u);
  EXPECT_EQ(v[0].elements[0].str, "message");
  EXPECT_EQ(v[0].elements[2].str, "p\0q"s);
  EXPECT_EQ(v[1].type, Reply::Type::kArray);
  EXPECT_TRUE(v[1].elements.empty());
  EXPECT_EQ(v[2].type, Reply::Type::kNil);
  ASSERT_EQ(v[3].elements.size(), 2u);
  EXPECT_EQ(v[3].elements[0].elements[0].integer, 1);
  EXPECT_EQ(v[3].elements[0].elements[1].type, Reply::Type::kNil);
  EXPECT_EQ(v[3].elements[1].elements[0].type, Reply::Type::kStatus);
  EXPECT_EQ(to_string(v[3]), "[[(integer) 1, (nil)], [x]]");
}

TEST(ReplyReader, EverySplitGivesTheSameReplies) {
  const std::string wire =
      "+OK\r\n:12345\r\n$7\r\nab\0\r\ncd\r\n*3\r\n$8\r\npmessage\r\n$1\r\n*\r\n*1\r\n$-1\r\n"
      "-WRONGTYPE nope\r\n"s;
  auto whole = parse_all(wire);
  ASSERT_EQ(whole.size(), 5u);
  for (size_t split = 0; split <= wire.size(); ++split) {
    auto parts = parse_split(wire, split);
    ASSERT_EQ(parts.size(), whole.size()) << "split at " << split;
    for (size_t i = 0; i < parts.size(); ++i)
      EXPECT_EQ(to_string(parts[i]), to_string(whole[i])) << "split at " << split;
  }
  // Byte at a time.
  ReplyReader r;
  std::vector<Reply> out;
  for (char c : wire) {
    ASSERT_TRUE(r.feed(std::string_view(&c, 1)).ok());
    for (;;) {
      auto n = r.next();
      ASSERT_TRUE(n.ok());
      if (!n->has_value()) break;
      out.push_back(std::move(**n));
    }
  }
  ASSERT_EQ(out.size(), whole.size());
  EXPECT_EQ(to_string(out[2]), to_string(whole[2]));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(ReplyReader, ProtocolErrorIsSticky) {
  ReplyReader r;
  ASSERT_TRUE(r.feed("!bogus\r\n").ok());
  auto n = r.next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, Errc::kProtocol);
  EXPECT_FALSE(r.error_text().empty());
  EXPECT_FALSE(r.feed("+OK\r\n").ok());
  EXPECT_FALSE(r.next().ok());
}

TEST(ReplyReader, BufferLimit) {
  ReplyReader r(ReplyReaderLimits{1024, 100});
  ASSERT_TRUE(r.feed("$100000\r\n").ok());
  auto n = r.next();
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->has_value());
  auto f = r.feed(std::string(2000, 'x'));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::kTooLarge);
}

TEST(ReplyReader, ElementLimitAndHugeHeaders) {
  {
    ReplyReader r(ReplyReaderLimits{1 << 20, 100});
    ASSERT_TRUE(r.feed("*101\r\n").ok());
    auto n = r.next();
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, Errc::kTooLarge);
  }
  {
    // Nested arrays count together.
    ReplyReader r(ReplyReaderLimits{1 << 20, 100});
    ASSERT_TRUE(r.feed("*2\r\n*60\r\n").ok());
    std::string wire;
    for (int i = 0; i < 60; ++i)
      wire += ":1\r\n";
    wire += "*60\r\n";
    ASSERT_TRUE(r.feed(wire).ok());
    EXPECT_FALSE(r.next().ok());
  }
  {
    // A count that does not fit hiredis's int must not allocate or crash.
    ReplyReader r;
    ASSERT_TRUE(r.feed("*4294967296\r\n").ok());
    auto n = r.next();
    if (n.ok()) {
      EXPECT_FALSE(n->has_value() && !(*n)->elements.empty());
    }
    ReplyReader r2;
    ASSERT_TRUE(r2.feed("*3000000000\r\n").ok());
    EXPECT_FALSE(r2.next().ok());
  }
}

TEST(ReplyReader, ElementCountResetsBetweenReplies) {
  ReplyReader r(ReplyReaderLimits{1 << 20, 3});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(r.feed("*3\r\n:1\r\n:2\r\n:3\r\n").ok());
    auto n = r.next();
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE(n->has_value());
    EXPECT_EQ((*n)->elements.size(), 3u);
  }
}

TEST(ReplyToString, EscapesBinary) {
  Reply r;
  r.type = Reply::Type::kString;
  r.str = "a\0\"\n"s;
  EXPECT_EQ(to_string(r), "\"a\\x00\\\"\\x0a\"");
  EXPECT_EQ(to_string(Reply::error("ERR x")), "(error) ERR x");
  Reply i;
  i.type = Reply::Type::kInteger;
  i.integer = 3;
  EXPECT_EQ(to_string(i), "(integer) 3");
  EXPECT_EQ(to_string(Reply{}), "(nil)");
}

// Our encoder must produce exactly what hiredis's redisFormatCommandArgv produces.
TEST(RedisCommand, MatchesHiredisFormatter) {
  std::vector<std::vector<std::string>> cases = {
      {"PING"},
      {"SET", "key", "value"},
      {"SET", "", ""},
      {"PUBLISH", "socket.io#/#", "bin\0ary\r\n"s},
      {"SET", "k", std::string(100000, 'z')},
      {"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f"},
  };
  for (auto& args : cases) {
    std::vector<std::string_view> views(args.begin(), args.end());
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    char* expected = nullptr;
    int len =
        redisFormatCommandArgv(&expected, static_cast<int>(args.size()), ptrs.data(), lens.data());
    ASSERT_GT(len, 0);
    std::string want(expected, static_cast<size_t>(len));
    redisFreeCommand(expected);
    EXPECT_EQ(command_size(views), want.size());
    EXPECT_EQ(format_command(views), want);
  }
}

}  // namespace
}  // namespace sb::redis
