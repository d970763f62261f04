#pragma once
// A message packet serialized once for many receivers: the WebSocket frame (plain, and deflated
// when worth it) and the polling entry (`4text`, or `b` + base64). A broadcast builds one
// SharedPacket, posts it to each loop that has receivers (copying it is three atomic
// increments), wraps it there once in a LocalPacket, and hands that to every receiver: a
// WebSocket session queues the frame by reference, a polling session appends the entry to the
// body of its next GET. Nothing is encoded per receiver.

#include <cstdint>
#include <span>
#include <string_view>

#include "engineio/packet.h"
#include "net/buffer.h"
#include "ws/deflate.h"
#include "ws/session.h"

namespace sb::engineio {

struct SharedPacket {
  ws::BroadcastFrame frame;  // the WebSocket form (one frame, "4…" text or raw binary)
  net::BlobPtr polling;      // the polling form of one payload entry
  bool binary = false;

  /// A text message (`4` + text on the wire). `deflate` decides the compressed frame form.
  static SharedPacket text(std::string_view message, const ws::DeflateOptions& deflate = {});
  /// A binary message (a binary frame; `b` + base64 over polling).
  static SharedPacket binary_message(std::span<const uint8_t> message,
                                     const ws::DeflateOptions& deflate = {});
};

/// A SharedPacket wrapped for one loop (loop-local reference counts): build one per loop, then
/// pass it to every receiver on that loop.
struct LocalPacket {
  ws::LocalFrame frame;
  net::SharedBuffer polling;
  bool binary = false;
  explicit LocalPacket(const SharedPacket& p)
      : frame(p.frame), polling(p.polling), binary(p.binary) {}
};

}  // namespace sb::engineio
