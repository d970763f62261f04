#include "http/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/log.h"
#include "http/mime.h"
#include "http/response.h"
#include "http/server.h"
#include "http/status.h"

namespace sb::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string resolve(const std::string& path) {
  std::array<char, PATH_MAX> buf{};
  if (::realpath(path.c_str(), buf.data()) == nullptr) return {};
  return std::string(buf.data());
}

// Closes the descriptor on every path out of serve().
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool read_all(int fd, std::string& out, size_t size) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // shrank under us, or an I/O error
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return Error{Errc::kInvalidArgument, "truncated percent escape"};
    }
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return Error{Errc::kInvalidArgument, "malformed percent escape"};
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<std::string> safe_relative_path(std::string_view url_path, std::string_view index) {
  if (url_path.empty() || url_path.front() != '/') {
    return Error{Errc::kInvalidArgument, "path must be absolute"};
  }
  Result<std::string> decoded = percent_decode(url_path);
  if (!decoded) return decoded.error();
  const std::string& p = *decoded;
  std::string out;
  out.reserve(p.size() + index.size());
  // Segment by segment on the decoded path, so "%2e%2e" and "%2f" cannot smuggle a ".." past us.
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    const std::string_view seg(p.data() + i, j - i);
    if (seg == "." || seg == "..") return Error{Errc::kInvalidArgument, "dot segment"};
    for (char c : seg) {
      if (c == '\0' || c == '\\') return Error{Errc::kInvalidArgument, "forbidden character"};
    }
    if (!seg.empty()) {  // "//" collapses
      if (!out.empty()) out.push_back('/');
      out.append(seg);
    }
    i = j + 1;
  }
  if (p.back() == '/') {
    if (!out.empty()) out.push_back('/');
    out.append(index);
  }
  return out;
}

std::string make_etag(unsigned long long size, long long mtime_ns) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "W/\"%llx-%llx\"", size,
                static_cast<unsigned long long>(mtime_ns));
  return buf;
}

bool etag_matches(std::string_view inm, std::string_view etag) {
  auto strip_weak = [](std::string_view t) {
    if (t.size() >= 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  const std::string_view want = strip_weak(etag);
  while (!inm.empty()) {
    const size_t comma = inm.find(',');
    std::string_view item = inm.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item == "*" || strip_weak(item) == want) return true;
    if (comma == std::string_view::npos) break;
    inm.remove_prefix(comma + 1);
  }
  return false;
}

StaticFiles::StaticFiles(StaticOptions options)
    : options_(std::move(options)), real_root_(resolve(options_.root)) {}

std::string StaticFiles::real_root() const {
  return real_root_.empty() ? resolve(options_.root) : real_root_;
}

void StaticFiles::serve(Exchange& ex) const {
  const Request& req = ex.request();
  Result<std::string> rel = safe_relative_path(req.path, options_.index);
  if (!rel) {
    ex.respond(text_response(status::kBadRequest, "bad path\n"));
    return;
  }
  const std::string root = real_root();
  if (root.empty()) {
    ex.respond(text_response(status::kNotFound, "not found\n"));
    return;
  }
  // The real path (symlinks resolved) must stay under the real root.
  const std::string real = resolve(root + "/" + *rel);
  if (real.empty() || real.size() <= root.size() || real.compare(0, root.size(), root) != 0 ||
      (real[root.size()] != '/' && root != "/")) {
    ex.respond(text_response(status::kNotFound, "not found\n"));
    return;
  }
  Fd f{::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
  struct stat st {};
  if (f.fd < 0 || ::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ex.respond(text_response(status::kNotFound, "not found\n"));
    return;
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size > options_.max_file_bytes) {
    SB_LOG_WARN("http: static file {} ({} bytes) over the {} byte cap", real, size,
                options_.max_file_bytes);
    ex.respond(text_response(status::kForbidden, "file too large\n"));
    return;
  }
  const long long mtime_ns =
      static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  const std::string etag = make_etag(size, mtime_ns);
  const std::string last_modified = format_http_date(st.st_mtim.tv_sec);
  const std::array<Header, 4> headers = {{{"ETag", etag},
                                          {"Last-Modified", last_modified},
                                          {"Cache-Control", options_.cache_control},
                                          {"X-Content-Type-Options", "nosniff"}}};
  Response r;
  r.headers = headers;
  const auto inm = req.header("if-none-match");
  if (inm && etag_matches(*inm, etag)) {
    r.status = status::kNotModified;
    ex.respond(r);
    return;
  }
  r.status = status::kOk;
  r.content_type = mime_type(real);
  std::string body;
  if (req.method == Method::kHead) {
    r.content_length = size;
  } else if (!read_all(f.fd, body, size)) {
    ex.respond(text_response(status::kInternalServerError, "read error\n"));
    return;
  }
  r.body = body;
  ex.respond(r);
}

void add_static_route(Router& router, StaticOptions options) {
  auto files = std::make_shared<const StaticFiles>(std::move(options));
  router.add_prefix("/", kGetHead, [files](Exchange& ex) { files->serve(ex); });
}

}  // namespace sb::http
