#include "engineio/http_compress.h"

#include <zlib.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "http/request.h"

namespace sb::engineio {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// q of one Accept-Encoding element ("gzip;q=0.5"): 1 when absent, 0 when malformed.
double quality(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      const std::string v(p.substr(2));
      char* end = nullptr;
      const double q = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || q < 0 || q > 1) return 0;
      return q;
    }
  }
  return 1;
}

// One deflate stream per thread and format, reset for each body: no allocation per response.
struct Compressor {
  z_stream z{};
  bool ok = false;
  explicit Compressor(int window_bits) {
    ok = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) ==
         Z_OK;
  }
  ~Compressor() {
    if (ok) deflateEnd(&z);
  }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
};

}  // namespace

ContentEncoding negotiate_encoding(std::string_view accept) {
  double gzip = -1;
  double deflate = -1;
  double any = -1;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view item = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string_view name = trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1 : quality(item.substr(semi + 1));
    if (http::iequals(name, "gzip") || http::iequals(name, "x-gzip")) {
      gzip = q;
    } else if (http::iequals(name, "deflate")) {
      deflate = q;
    } else if (name == "*") {
      any = q;
    }
  }
  if (gzip < 0) gzip = any;
  if (deflate < 0) deflate = any;
  if (gzip <= 0 && deflate <= 0) return ContentEncoding::kIdentity;
  return gzip >= deflate ? ContentEncoding::kGzip : ContentEncoding::kDeflate;
}

std::string_view encoding_name(ContentEncoding e) {
  switch (e) {
    case ContentEncoding::kGzip:
      return "gzip";
    case ContentEncoding::kDeflate:
      return "deflate";
    case ContentEncoding::kIdentity:
      break;
  }
  return {};
}

bool compress_body(std::string_view in, ContentEncoding e, std::string& out) {
  if (e == ContentEncoding::kIdentity) return false;
  thread_local std::array<std::unique_ptr<Compressor>, 2> streams;
  auto& c = streams[e == ContentEncoding::kGzip ? 0 : 1];
  if (!c) c = std::make_unique<Compressor>(e == ContentEncoding::kGzip ? 15 + 16 : 15);
  if (!c->ok) return false;
  z_stream& z = c->z;
  if (deflateReset(&z) != Z_OK) return false;
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END) return false;
  out.resize(out.size() - z.avail_out);
  return true;
}

}  // namespace sb::engineio
