#include "engineio/eio_metrics.h"

namespace sb::engineio {

void EioMetrics::count_closed(std::string_view reason) {
  static constexpr std::array<std::string_view, 6> kReasons = {
      "transport close", "ping timeout", "transport error",
      "forced close",    "parse error",  "server shutting down"};
  size_t i = 0;
  while (i < kReasons.size() && kReasons[i] != reason)
    ++i;
  closed[i].inc();
}

EioMetrics& eio_metrics() {
  static EioMetrics m;
  return m;
}

}  // namespace sb::engineio
