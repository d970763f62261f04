#include "engineio/options.h"

namespace sb::engineio {

std::string_view transport_name(Transport t) {
  return t == Transport::kPolling ? "polling" : "websocket";
}

std::optional<Transport> parse_transport(std::string_view name) {
  if (name == "polling") return Transport::kPolling;
  if (name == "websocket") return Transport::kWebSocket;
  return std::nullopt;
}

}  // namespace sb::engineio
