#include "adapter/adapter_metrics.h"

namespace sb::adapter::metrics {

using sb::metrics::Counter;

Counter& published() {
  static Counter c("sb_adapter_published_total", "Messages published to Redis by the adapter");
  return c;
}
Counter& publish_skipped() {
  static Counter c("sb_adapter_publish_skipped_total",
                   "Broadcasts not published because this node was alone in the cluster");
  return c;
}
Counter& publish_dropped() {
  static Counter c("sb_adapter_publish_dropped_total",
                   "Publishes refused by the Redis client (queue full during an outage)");
  return c;
}
Counter& received() {
  static Counter c("sb_adapter_received_total", "Messages received from Redis by the adapter");
  return c;
}
Counter& decode_errors() {
  static Counter c("sb_adapter_decode_errors_total",
                   "Adapter messages dropped because they could not be decoded");
  return c;
}
Counter& requests() {
  static Counter c("sb_adapter_requests_total", "Requests sent to the other nodes");
  return c;
}
Counter& requests_partial() {
  static Counter c("sb_adapter_requests_partial_total",
                   "Requests completed early with partial answers (a node left)");
  return c;
}
Counter& requests_timed_out() {
  static Counter c("sb_adapter_requests_timed_out_total",
                   "Requests that reached their timeout without every answer");
  return c;
}
Counter& requests_rejected() {
  static Counter c("sb_adapter_requests_rejected_total",
                   "Requests refused because too many were in flight");
  return c;
}

}  // namespace sb::adapter::metrics
