#include "socketio/sio_metrics.h"

namespace sb::socketio {

void SioMetrics::count_disconnect(std::string_view reason) {
  size_t i = 0;
  while (i < kReasons.size() && kReasons[i] != reason)
    ++i;
  disconnects[i].inc();
}

SioMetrics& sio_metrics() {
  static SioMetrics m;
  return m;
}

}  // namespace sb::socketio
