#pragma once
// The balancer's own endpoints, under /lb/ and answered only to loopback clients:
//   GET  /lb/metrics                    Prometheus text: the process's counters plus per-backend
//                                       gauges (up, drained, active connections, node id)
//   GET  /lb/backends                   the same as JSON
//   POST /lb/drain?backend=HOST:PORT    no new sessions for that backend (existing ones stay)
//   POST /lb/undrain?backend=HOST:PORT  takes new sessions again

#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"
#include "lb/lb_options.h"

namespace sb::lb {

struct AdminAnswer {
  uint16_t status = 200;
  std::string_view content_type = "text/plain";
  std::string body;
};

AdminAnswer handle_admin(LbShared& shared, const http::Request& req);

/// Decodes %XX escapes (a malformed escape is kept as is). For query values like "127.0.0.1%3A80".
std::string percent_decode(std::string_view s);

}  // namespace sb::lb
