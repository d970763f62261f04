#pragma once
// Everything a `switchboard bench SCENARIO ...` run is told on the command line.

#include <cstdint>
#include <string>
#include <vector>

namespace sb::bench {

struct BenchConfig {
  std::string scenario = "raw-chat";
  std::string target;  ///< ws://host:port/path (Socket.IO scenarios: http:// or ws://host:port)
  /// cluster: the other nodes (--target given more than once); receivers spread over all.
  std::vector<std::string> more_targets;
  uint32_t clients = 1000;
  uint32_t senders = 1;  ///< raw-chat, fanout; raw-echo, echo: every client sends
  double rate = 0;       ///< messages/s in total; 0 = closed loop
  uint32_t size = 100;   ///< payload bytes (>= 40: the stamp)
  double duration_s = 10;
  double warmup_s = 2;
  double drain_s = 2;  ///< after the window: wait for in-flight deliveries
  int threads = 1;     ///< load-generator loops
  std::string source_ips = "127.0.0.1";
  std::vector<int> pids;  ///< target processes to sample
  std::string json_path;
  bool deflate = false;                ///< offer permessage-deflate
  bool binary = false;                 ///< binary frames instead of text
  uint32_t connect_concurrency = 500;  ///< connections in flight (all loops)
  double connect_timeout_s = 60;       ///< stop starting new connections after this
  uint32_t handshake_timeout_ms = 10000;
  bool progress = true;    ///< a line per second on stderr
  uint32_t window = 1;     ///< closed loop: messages in flight per sender
  std::string room = "r";  ///< fanout: the room every client joins (query room=NAME)
  std::string nsp = "/";   ///< Socket.IO namespace
  /// Connect in this many equal steps, sampling the target's memory after each (connect: 4).
  uint32_t steps = 0;
  /// After each step, wait this long with the clients idle before sampling the target: a
  /// server may hand back what the burst of handshakes freed (ours trims its heap once a burst
  /// is over), and "idle memory" is what idle connections hold, not the burst's leftovers.
  uint32_t settle_ms = 500;
  /// Latency to the kernel's receive time at the client socket (SO_TIMESTAMPNS), not to when
  /// the generator read it: a burst of 1,000 receipts takes a single generator thread ~5 ms to
  /// read, which would otherwise be counted as the server's latency.
  bool rx_stamps = true;
};

}  // namespace sb::bench
