#include "redis/url.h"

#include <gtest/gtest.h>

namespace sb::redis {
namespace {

TEST(RedisUrl, Defaults) {
  auto u = parse_url("redis://localhost");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_TRUE(u->user.empty());
  EXPECT_TRUE(u->password.empty());
}

TEST(RedisUrl, Full) {
  auto u = parse_url("redis://alice:s3cret@redis.example:6380/4");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "redis.example");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->db, 4);
}

TEST(RedisUrl, PasswordOnly) {
  auto u = parse_url("redis://:pw@127.0.0.1:7000");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->user.empty());
  EXPECT_EQ(u->password, "pw");
  EXPECT_EQ(u->port, 7000);
}

TEST(RedisUrl, UserOnly) {
  auto u = parse_url("redis://bob@h");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "bob");
  EXPECT_TRUE(u->password.empty());
}

TEST(RedisUrl, WithoutScheme) {
  auto u = parse_url("10.0.0.7:6390");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "10.0.0.7");
  EXPECT_EQ(u->port, 6390);
  auto h = parse_url("cache");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->host, "cache");
  EXPECT_EQ(h->port, 6379);
}

TEST(RedisUrl, Ipv6) {
  auto u = parse_url("redis://[::1]:6381/2");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6381);
  EXPECT_EQ(u->db, 2);
  auto v = parse_url("[fe80::1]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "fe80::1");
  EXPECT_EQ(v->port, 6379);
}

TEST(RedisUrl, PercentEncodedCredentials) {
  auto u = parse_url("redis://us%3Aer:p%40ss%2fw@h/1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "us:er");
  EXPECT_EQ(u->password, "p@ss/w");
  // An unencoded '@' in the password: the last '@' ends the credentials.
  auto v = parse_url("redis://:a@b@h");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->password, "a@b");
  EXPECT_EQ(v->host, "h");
}

TEST(RedisUrl, TrailingSlashMeansDbZero) {
  auto u = parse_url("redis://h:1/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->db, 0);
}

TEST(RedisUrl, Invalid) {
  const char* bad[] = {
      "",                        // no host
      "redis://",                // no host
      "redis://:pw@",            // no host
      "rediss://h",              // TLS
      "http://h",                // wrong scheme
      "unix:///tmp/redis.sock",  // unix socket
      "redis://h:0",             // port 0
      "redis://h:65536",         // port too large
      "redis://h:abc",           // port not a number
      "redis://h:",              // empty port
      "redis://h:-1",            // negative port
      "redis://h/x",             // db not a number
      "redis://h/-1",            // negative db
      "redis://h/99999999999",   // db overflow
      "redis://h?db=1",          // query
      "redis://:%zz@h",          // bad percent-encoding
      "redis://:%4@h",           // truncated percent-encoding
      "redis://::1:6379",        // unbracketed IPv6
      "redis://[::1",            // unterminated bracket
      "redis://[::1]x",          // junk after bracket
  };
  for (const char* text : bad) {
    auto u = parse_url(text);
    EXPECT_FALSE(u.ok()) << text;
    if (!u.ok()) {
      EXPECT_EQ(u.error().code, Errc::kInvalidArgument) << text;
      EXPECT_NE(u.error().reason.find("redis url"), std::string_view::npos) << text;
    }
  }
}

}  // namespace
}  // namespace sb::redis
