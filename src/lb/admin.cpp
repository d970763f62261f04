#include "lb/admin.h"

#include "common/metrics.h"
#include "fmt/format.h"

namespace sb::lb {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string backend_metrics(const BackendPool& pool) {
  std::string out;
  out += "# HELP sb_lb_backend_up Backend passes its health checks (1) or not (0)\n";
  out += "# TYPE sb_lb_backend_up gauge\n";
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    out += fmt::format("sb_lb_backend_up{{backend=\"{}\"}} {}\n", b.name, b.healthy.load() ? 1 : 0);
  }
  out += "# HELP sb_lb_backend_drained Backend takes no new sessions (1)\n";
  out += "# TYPE sb_lb_backend_drained gauge\n";
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    out += fmt::format("sb_lb_backend_drained{{backend=\"{}\"}} {}\n", b.name,
                       b.drained.load() ? 1 : 0);
  }
  out += "# HELP sb_lb_backend_active Open proxied connections to the backend\n";
  out += "# TYPE sb_lb_backend_active gauge\n";
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    out += fmt::format("sb_lb_backend_active{{backend=\"{}\"}} {}\n", b.name, b.active.load());
  }
  out += "# HELP sb_lb_backend_node_id Node id the backend announced (-1: not yet known)\n";
  out += "# TYPE sb_lb_backend_node_id gauge\n";
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    out += fmt::format("sb_lb_backend_node_id{{backend=\"{}\"}} {}\n", b.name, b.node_id.load());
  }
  return out;
}

std::string backends_json(const BackendPool& pool, Mode mode) {
  std::string out = fmt::format("{{\"mode\":\"{}\",\"backends\":[", mode_name(mode));
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    out +=
        fmt::format("{}{{\"backend\":\"{}\",\"up\":{},\"drained\":{},\"active\":{},\"nodeId\":{}}}",
                    i ? "," : "", b.name, b.healthy.load(), b.drained.load(), b.active.load(),
                    b.node_id.load());
  }
  out += "]}\n";
  return out;
}

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

AdminAnswer handle_admin(LbShared& shared, const http::Request& req) {
  BackendPool& pool = shared.pool;
  const bool get = req.method == http::Method::kGet;
  if (req.path == "/lb/metrics" && get) {
    return {200, "text/plain; version=0.0.4", metrics::render_prometheus() + backend_metrics(pool)};
  }
  if (req.path == "/lb/backends" && get) {
    return {200, "application/json", backends_json(pool, shared.options.mode)};
  }
  const bool drain = req.path == "/lb/drain";
  if (drain || req.path == "/lb/undrain") {
    if (req.method != http::Method::kPost) return {405, "text/plain", "use POST\n"};
    const std::string name = percent_decode(query_param(req.query, "backend"));
    const int i = pool.find_by_name(name);
    if (i < 0) return {404, "text/plain", "unknown backend\n"};
    pool.at(static_cast<size_t>(i)).drained.store(drain);
    return {200, "text/plain", fmt::format("{} {}\n", drain ? "drained" : "undrained", name)};
  }
  return {404, "text/plain", "not found\n"};
}

}  // namespace sb::lb
