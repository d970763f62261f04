#pragma once
// The worker of every "stamped message" scenario (raw-chat, raw-echo, fanout, echo): senders send
// messages that carry a Stamp; every receiver counts them and records send → receive latency.
//
// Pacing: closed loop (--rate 0) keeps `window` messages of each sender in flight — the next is
// sent when one of its own comes back to it (its copy of a broadcast, or its echo/ack); open
// loop shares a fixed total rate among the senders, paced from the loop's 10 ms tick.

#include <memory>

#include "bench/scenario.h"

namespace sb::bench {

/// `everyone_sends`: every client is a sender (echo); otherwise clients 0 .. senders-1.
std::unique_ptr<ScenarioWorker> make_stamped_worker(WorkerEnv env, bool everyone_sends);

/// A worker that sends nothing (the connect scenario: idle clients).
std::unique_ptr<ScenarioWorker> make_idle_worker();

}  // namespace sb::bench
