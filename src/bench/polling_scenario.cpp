// The client side of the `polling` scenario (the scenario itself is `fanout` with
// polling() true, sio_scenarios.cpp): long-polling clients (polling_client.h) instead of
// WebSocket ones, against the same bench app (`switchboard serve --app bench`, or
// bench/baseline/server.mjs). Every client joins the room (query room=NAME) over
// `transport=polling`, senders emit b(stamp[, room]) by POST, and each broadcast reaches every
// member through its pending GET — the sender too, which paces a closed loop.

#include <algorithm>

#include "bench/polling_client.h"
#include "bench/scenario.h"
#include "bench/sio_packet.h"
#include "bench/stamped_worker.h"
#include "bench/target.h"

namespace sb::bench {
namespace {

class PollingClientFactory final : public ClientFactory {
 public:
  PollingClientFactory(const Target& t, const BenchConfig& c) {
    options_.target = t.addr;
    options_.host_header = t.host_header;
    options_.path = socketio_path(t.path, "room=" + c.room, "polling");
    options_.nsp = c.nsp;
    // The bench app broadcasts to "r" when no room is given: the short form for the default.
    if (c.room != "r") options_.extra_arg = c.room;
    options_.handshake_timeout_ms = c.handshake_timeout_ms;
  }
  Result<BenchClient*> connect(net::Loop& loop, const sockaddr_in& source, uint32_t id,
                               ClientEvents& events) override {
    auto r = PollingClient::connect(loop, source, options_, events, id);
    if (!r) return r.error();
    return static_cast<BenchClient*>(r.value());
  }

 private:
  PollingClientOptions options_;  // shared by every client (held by reference)
};

}  // namespace

Result<std::unique_ptr<ClientFactory>> make_polling_client_factory(const BenchConfig& config) {
  if (config.binary) {
    return Error{Errc::kInvalidArgument, "--binary is not supported by the Socket.IO scenarios"};
  }
  if (needs_json_escape(config.room) || needs_json_escape(config.nsp) ||
      config.room.find_first_of("&#% ") != std::string::npos) {
    return Error{Errc::kInvalidArgument, "--room/--nsp: plain text only"};
  }
  if (!config.more_targets.empty()) {
    return Error{Errc::kInvalidArgument, "only the cluster scenario takes several --target"};
  }
  auto target = parse_target(config.target);
  if (!target) return target.error();
  return std::unique_ptr<ClientFactory>(
      std::make_unique<PollingClientFactory>(target.value(), config));
}

}  // namespace sb::bench
