#pragma once
// Counters and the latency histogram of one load-generator loop. Written by that loop's thread
// only (plain integers: no atomics on the hot path); merged after the threads are joined.

#include <cstdint>
#include <map>
#include <string>

#include "bench/histogram.h"

namespace sb::bench {

struct LoopStats {
  Histogram latency;  ///< send → receive, ns, messages sent inside the window
  uint64_t sent = 0;  ///< every message sent (warm-up included)
  uint64_t sent_in_window = 0;
  uint64_t delivered = 0;            ///< every stamped message received
  uint64_t delivered_in_window = 0;  ///< received messages that were sent inside the window
  uint64_t foreign = 0;              ///< messages without our stamp
  uint64_t stale_own = 0;            ///< closed loop: own message back with an unexpected seq
  /// In-window deliveries timed when the generator read them: no kernel receive time (all of
  /// them with --read-time; otherwise only where the kernel gave none).
  uint64_t read_timed = 0;
  // cluster: deliveries split by the receiver's node (local = the sender's node), and the
  // exactly-once check: per (receiver, sender) the sequence numbers must arrive strictly rising.
  Histogram latency_local;   ///< in-window deliveries to clients on the sender's node
  Histogram latency_remote;  ///< in-window deliveries to clients on another node
  uint64_t duplicates = 0;   ///< seq not above the last one seen from that sender (dup/reorder)
  uint64_t gaps = 0;         ///< seq skipped ahead of last + 1 (a message missing, so far)
  uint64_t connected = 0;    ///< handshakes completed
  uint64_t connect_failed = 0;
  uint64_t closed_early = 0;                 ///< open clients lost before the end of the run
  std::map<std::string, uint64_t> failures;  ///< reason → count (connect and early close)

  void merge(const LoopStats& o) {
    latency.merge(o.latency);
    sent += o.sent;
    sent_in_window += o.sent_in_window;
    delivered += o.delivered;
    delivered_in_window += o.delivered_in_window;
    foreign += o.foreign;
    stale_own += o.stale_own;
    read_timed += o.read_timed;
    latency_local.merge(o.latency_local);
    latency_remote.merge(o.latency_remote);
    duplicates += o.duplicates;
    gaps += o.gaps;
    connected += o.connected;
    connect_failed += o.connect_failed;
    closed_early += o.closed_early;
    for (const auto& [k, v] : o.failures)
      failures[k] += v;
  }
};

}  // namespace sb::bench
