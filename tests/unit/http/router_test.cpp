#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sb::http {
namespace {

const RouteHandler kNoop = [](Exchange&) {};

TEST(Router, ExactAndPrefixMatching) {
  Router r;
  r.add("/healthz", kGetHead, kNoop);
  r.add_prefix("/socket.io/", {Method::kGet, Method::kPost}, kNoop, 100);
  r.add_prefix("/", kGetHead, kNoop);
  r.add_prefix("/socket.io/admin/", {Method::kGet}, kNoop);

  RouteMatch m = r.match("/healthz", Method::kGet);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->path, "/healthz");
  EXPECT_EQ(r.match("/healthz", Method::kHead).kind, RouteMatch::Kind::kFound);

  m = r.match("/socket.io/", Method::kPost);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->path, "/socket.io/");
  EXPECT_EQ(m.route->max_body_bytes, 100u);

  m = r.match("/socket.io/admin/x", Method::kGet);  // longest prefix wins
  EXPECT_EQ(m.route->path, "/socket.io/admin/");
  m = r.match("/healthz/x", Method::kGet);  // not the exact route: the static prefix
  EXPECT_EQ(m.route->path, "/");
  m = r.match("/socket.io", Method::kGet);
  EXPECT_EQ(m.route->path, "/");
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router r;
  r.add("/healthz", kGetHead, kNoop);
  r.add_prefix("/socket.io/", {Method::kPost, Method::kGet, Method::kOptions}, kNoop);
  r.add_prefix("/", kGetHead, kNoop);
  RouteMatch m = r.match("/healthz", Method::kPost);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.route->allow, "GET, HEAD");  // no fall-through to the "/" prefix
  m = r.match("/socket.io/", Method::kDelete);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.route->allow, "GET, POST, OPTIONS");
}

TEST(Router, UnknownPathIs404) {
  Router r;
  r.add("/healthz", kGetHead, kNoop);
  EXPECT_EQ(r.match("/", Method::kGet).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("/healthzz", Method::kGet).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("/HEALTHZ", Method::kGet).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("", Method::kGet).kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, ConfigurationErrorsThrow) {
  Router r;
  r.add("/a", kGetHead, kNoop);
  EXPECT_THROW(r.add("/a", kGetHead, kNoop), std::invalid_argument);
  EXPECT_THROW(r.add("a", kGetHead, kNoop), std::invalid_argument);
  EXPECT_THROW(r.add("/b", MethodSet{}, kNoop), std::invalid_argument);
  EXPECT_THROW(r.add("/c", kGetHead, RouteHandler{}), std::invalid_argument);
  EXPECT_NO_THROW(r.add_prefix("/a", kGetHead, kNoop));  // exact and prefix are separate
  EXPECT_EQ(r.size(), 2u);
}

TEST(MethodSet, AllowHeader) {
  EXPECT_EQ((MethodSet{Method::kPost, Method::kGet}).allow_header(), "GET, POST");
  EXPECT_TRUE(kGetHead.has(Method::kHead));
  EXPECT_FALSE(kGetHead.has(Method::kPost));
  EXPECT_TRUE(MethodSet{}.empty());
}

}  // namespace
}  // namespace sb::http
