// Static files from a temporary web root: types, index, HEAD, ETag/304, traversal attempts.

#include "http/static_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/mime.h"
#include "http/server.h"
#include "http_harness.h"

namespace sb::http {
namespace {

namespace fs = std::filesystem;
using testing::Harness;

TEST(PercentDecode, Cases) {
  EXPECT_EQ(*percent_decode("/a%20b"), "/a b");
  EXPECT_EQ(*percent_decode("%2e%2E"), "..");
  EXPECT_EQ(*percent_decode("a+b"), "a+b");
  EXPECT_FALSE(percent_decode("%").ok());
  EXPECT_FALSE(percent_decode("%2").ok());
  EXPECT_FALSE(percent_decode("%zz").ok());
  EXPECT_FALSE(percent_decode("ab%4").ok());
}

TEST(SafeRelativePath, AcceptsAndRefuses) {
  EXPECT_EQ(*safe_relative_path("/", "index.html"), "index.html");
  EXPECT_EQ(*safe_relative_path("/a/b.js", "index.html"), "a/b.js");
  EXPECT_EQ(*safe_relative_path("/a//b.js", "index.html"), "a/b.js");
  EXPECT_EQ(*safe_relative_path("/sub/", "index.html"), "sub/index.html");
  EXPECT_EQ(*safe_relative_path("/a%20b.css", "index.html"), "a b.css");
  EXPECT_EQ(*safe_relative_path("/..a/b..", "i"), "..a/b..");  // dots inside names are fine
  for (const char* bad :
       {"/..", "/../etc/passwd", "/a/../../x", "/%2e%2e/x", "/%2E%2e%2fx", "/a/%2e%2e", "/./a",
        "/a/.", "/a%00b", "/a\\b", "/a%5c..%5cb", "/%", "/%g0", "relative", ""}) {
    EXPECT_FALSE(safe_relative_path(bad, "index.html").ok()) << bad;
  }
}

TEST(Etag, MatchingRules) {
  const std::string e = make_etag(10, 1234);
  EXPECT_EQ(e, "W/\"a-4d2\"");
  EXPECT_TRUE(etag_matches(e, e));
  EXPECT_TRUE(etag_matches("\"a-4d2\"", e));  // weak comparison
  EXPECT_TRUE(etag_matches("\"x\", W/\"a-4d2\"", e));
  EXPECT_TRUE(etag_matches("*", e));
  EXPECT_FALSE(etag_matches("W/\"a-4d3\"", e));
  EXPECT_FALSE(etag_matches("", e));
}

TEST(Mime, Types) {
  EXPECT_EQ(mime_type("/a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("m.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("s.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type("d.json"), "application/json");
  EXPECT_EQ(mime_type("i.png"), "image/png");
  EXPECT_EQ(mime_type("i.svg"), "image/svg+xml");
  EXPECT_EQ(mime_type("favicon.ico"), "image/x-icon");
  EXPECT_EQ(mime_type("r.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(mime_type("m.wasm"), "application/wasm");
  EXPECT_EQ(mime_type("a.js.map"), "application/json");
  EXPECT_EQ(mime_type("noext"), "application/octet-stream");
  EXPECT_EQ(mime_type("dir.d/noext"), "application/octet-stream");
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sb_http_static_XXXXXX";
    base_ = ::mkdtemp(tmpl);
    root_ = base_ / "www";
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<h1>hi</h1>");
    write(root_ / "app.js", "console.log(1)");
    write(root_ / "style.css", "body{}");
    write(root_ / "data.json", "{}");
    write(root_ / "a b.txt", "spaced");
    write(root_ / "sub" / "index.html", "sub");
    write(root_ / "big.bin", std::string(2000, 'x'));
    write(base_ / "secret.txt", "secret");
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
    ServerOptions o;
    server_ = std::make_unique<HttpServer>(o);
    StaticOptions so;
    so.root = root_.string();
    so.max_file_bytes = 1000;
    add_static_route(server_->router(), so);
    harness_ = std::make_unique<Harness>(*server_);
  }
  void TearDown() override {
    harness_.reset();
    fs::remove_all(base_);
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

  testing::ClientResponse get(const std::string& target, const std::string& extra = "",
                              const std::string& method = "GET") {
    harness_->send(method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n");
    auto r = harness_->read_response(method == "HEAD");
    EXPECT_TRUE(r) << target;
    return r.value_or(testing::ClientResponse{});
  }

  fs::path base_, root_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Harness> harness_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypes) {
  auto r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<h1>hi</h1>");
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("last-modified").size(), 29u);
  EXPECT_EQ(r.header("etag").substr(0, 3), "W/\"");
  EXPECT_EQ(get("/app.js").header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/style.css").header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(get("/data.json").header("content-type"), "application/json");
  EXPECT_EQ(get("/a%20b.txt").body, "spaced");
  EXPECT_EQ(get("/sub/").body, "sub");
  EXPECT_EQ(get("/index.html?v=3").body, "<h1>hi</h1>");
}

TEST_F(StaticFilesTest, HeadHasLengthAndNoBody) {
  auto r = get("/app.js", "", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "14");
  EXPECT_EQ(get("/style.css").body, "body{}");  // nothing stray was left on the wire
}

TEST_F(StaticFilesTest, ConditionalGet) {
  const std::string etag = get("/app.js").header("etag");
  auto r = get("/app.js", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("etag"), etag);
  EXPECT_EQ(get("/app.js", "If-None-Match: \"other\"\r\n").status, 200);
  EXPECT_EQ(get("/app.js", "If-None-Match: *\r\n").status, 304);
}

TEST_F(StaticFilesTest, TraversalIsImpossible) {
  for (const char* t :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/sub/%2E%2E/%2e%2e/secret.txt", "/..%2fsecret.txt",
        "/a%00b", "/sub\\..\\..\\secret.txt", "/%5c..%5csecret.txt", "/%zz"}) {
    EXPECT_EQ(get(t).status, 400) << t;
  }
  EXPECT_EQ(get("/link.txt").status, 404);  // symlink out of the root
  EXPECT_EQ(get("/secret.txt").status, 404);
}

TEST_F(StaticFilesTest, MissingDirectoryOversizeAndMethods) {
  EXPECT_EQ(get("/nope.html").status, 404);
  EXPECT_EQ(get("/sub").status, 404);  // a directory is not a file
  EXPECT_EQ(get("/big.bin").status, 403);
  harness_->send("POST /app.js HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  auto r = harness_->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "GET, HEAD");
}

TEST(StaticFilesNoRoot, EverythingIs404) {
  HttpServer s{ServerOptions{}};
  add_static_route(s.router(), StaticOptions{"/nonexistent/sb_web_root"});
  Harness h(s);
  h.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /x.js HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(h.read_response()->status, 404);
  EXPECT_EQ(h.read_response()->status, 404);
}

}  // namespace
}  // namespace sb::http
