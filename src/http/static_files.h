#pragma once
// Static files from a web root (the chat demo page, client bundles). GET and HEAD only.
//
// Safety: the URL path is percent-decoded once, then any "." or ".." segment, NUL, backslash or
// malformed escape is refused with 400 before the file system is touched; the resolved real path
// (symlinks followed) must still lie under the real web root, or the answer is 404. Files are read
// per request with blocking calls on the loop thread: fine for a handful of small assets, not for
// serving large media (hence the size cap).

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/router.h"

namespace sb::http {

class Exchange;

struct StaticOptions {
  std::string root;                        // may not exist: every request is then a 404
  std::string index = "index.html";        // served for paths ending in '/'
  size_t max_file_bytes = 8u << 20;        // larger files are refused with 403
  std::string cache_control = "no-cache";  // revalidate each time; ETag makes that cheap
};

/// Decodes %XX escapes. Fails on a truncated or non-hex escape. '+' is left as is (paths).
Result<std::string> percent_decode(std::string_view s);

/// Turns a URL path ("/css/a%20b.css") into a safe path relative to the root ("css/a b.css"),
/// or an error (kInvalidArgument → 400). A trailing '/' (or "/") gets the index file appended.
Result<std::string> safe_relative_path(std::string_view url_path, std::string_view index);

/// Weak ETag from size and modification time: W/"<size>-<mtime ns>" in hex.
std::string make_etag(unsigned long long size, long long mtime_ns);
/// True if an If-None-Match value matches `etag` (weak comparison; "*" matches anything).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

class StaticFiles {
 public:
  explicit StaticFiles(StaticOptions options);

  /// Answers the exchange: 200 (file), 304, 400, 403, 404.
  void serve(Exchange& ex) const;
  const StaticOptions& options() const { return options_; }

 private:
  std::string real_root() const;

  StaticOptions options_;
  std::string real_root_;  // resolved at construction; retried per request if it did not exist
};

/// Registers a StaticFiles handler as the "/" prefix route (GET, HEAD): every path no other route
/// claims. The StaticFiles object is owned by the route.
void add_static_route(Router& router, StaticOptions options);

}  // namespace sb::http
