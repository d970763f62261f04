#pragma once
// What the broadcast and the request halves of the classic codec share (internal to src/adapter):
// the MessagePack forms of an EVENT packet and of the broadcast options, both ways.

#include <string>
#include <string_view>
#include <vector>

#include "adapter/classic_codec.h"
#include "adapter/msgpack.h"
#include "common/result.h"

namespace sb::adapter::classic::detail {

inline constexpr Error kMalformed{Errc::kProtocol, "malformed adapter message"};

/// `{type:2, data, nsp}`: `data` is the event's data array converted from JSON (binary
/// attachments become `bin`). On error `out` may hold part of it: the caller truncates.
Result<void> write_event_packet(msgpack::Writer& w, std::string& out, std::string_view nsp,
                                const socketio::PacketSource& src);
/// `{rooms, except, flags}` as the Node adapter builds rawOpts.
void write_opts(msgpack::Writer& w, const socketio::BroadcastOptions& o);
/// The opts map (nil: none), rooms and except bounded by kMaxRooms.
Result<void> read_opts(msgpack::Reader& r, WireOpts& o);
/// An EVENT packet (any key order; `id` and unknown keys ignored): its data as JSON text with
/// the attachments, and its nsp when present.
Result<void> read_packet(msgpack::Reader& r, std::string& data_json,
                         std::vector<socketio::Bytes>& att, std::string& nsp);

}  // namespace sb::adapter::classic::detail
