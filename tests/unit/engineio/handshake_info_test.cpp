#include "engineio/handshake_info.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sb::engineio {
namespace {

TEST(HandshakeInfo, PacksEveryFieldAndSurvivesAMove) {
  HandshakeBuilder b("/socket.io/?EIO=4&transport=polling&room=a%20b", "127.0.0.1", 1234);
  b.add_query("EIO", "4");
  b.add_query("transport", "polling");
  b.add_query("room", "a b");
  b.add_query("empty", "");
  b.add_header("host", "example.com");
  const std::string long_cookie(70000, 'c');  // over the one-byte length form
  b.add_header("cookie", long_cookie);
  HandshakeInfo built = b.finish();
  const HandshakeInfo h = std::move(built);

  EXPECT_EQ(h.url, "/socket.io/?EIO=4&transport=polling&room=a%20b");
  EXPECT_EQ(h.address, "127.0.0.1");
  EXPECT_EQ(h.issued_ms, 1234u);
  EXPECT_EQ(h.query_param("room"), "a b");
  EXPECT_EQ(h.query_param("empty"), "");
  EXPECT_FALSE(h.query_param("missing").has_value());
  EXPECT_EQ(h.header("host"), "example.com");
  EXPECT_EQ(h.header("cookie"), long_cookie);
  EXPECT_FALSE(h.header("origin").has_value());

  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : h.query)
    q.emplace_back(k, v);
  const std::vector<std::pair<std::string, std::string>> want{
      {"EIO", "4"}, {"transport", "polling"}, {"room", "a b"}, {"empty", ""}};
  EXPECT_EQ(q, want);
  EXPECT_EQ(h.query.size(), 4u);
  EXPECT_EQ(h.headers.size(), 2u);
}

TEST(HandshakeInfo, EmptyLists) {
  HandshakeBuilder b("/", "", 0);
  const HandshakeInfo h = b.finish();
  EXPECT_TRUE(h.query.empty());
  EXPECT_TRUE(h.headers.empty());
  EXPECT_EQ(h.query.begin(), h.query.end());
  EXPECT_EQ(h.url, "/");
  EXPECT_EQ(h.address, "");
}

}  // namespace
}  // namespace sb::engineio

namespace sb::engineio {
namespace {

// A query with nothing to decode is read from the url itself, split as for_each_query_param
// splits it (empty pairs skipped, a key without `=` has an empty value).
TEST(HandshakeInfo, RawQueryIsSplitFromTheUrl) {
  const std::string url = "/socket.io/?EIO=4&&transport=websocket&flag&t=abc";
  HandshakeBuilder b(url, "::1", 5);
  const size_t q = url.find('?') + 1;
  b.use_raw_query(q, url.size() - q);
  const HandshakeInfo h = b.finish();
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& [k, v] : h.query)
    got.emplace_back(k, v);
  const std::vector<std::pair<std::string, std::string>> want{
      {"EIO", "4"}, {"transport", "websocket"}, {"flag", ""}, {"t", "abc"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(h.query.size(), 4u);
  EXPECT_EQ(h.query_param("t"), "abc");
  EXPECT_EQ(h.query_param("flag"), "");
  EXPECT_FALSE(h.query_param("sid").has_value());
}

}  // namespace
}  // namespace sb::engineio
