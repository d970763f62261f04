#pragma once
// The receive side of one Engine.IO connection: turns its messages into Socket.IO packets.
// A text message is decoded at once, except a BINARY_EVENT / BINARY_ACK header, after which the
// next `attachment_count` binary messages (WebSocket binary frames or polling `b` packets) are
// collected and the complete packet is yielded with them. A text message while attachments are
// awaited, or a binary message when none are, is a protocol error; the session closes on any
// error, after which the decoder must be reset() before reuse.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "socketio/packet.h"

namespace sb::socketio {

class Decoder {
 public:
  explicit Decoder(DecodeLimits limits = {}) : limits_(limits) {}

  /// Feeds the data of one Engine.IO text message (the Socket.IO packet text). Returns the
  /// decoded packet, or nullptr when it is a binary header now awaiting attachments. The packet
  /// lives until the next call on any Decoder of this thread (it is a per-thread scratch, so an
  /// idle connection does not carry one: copy it before running code that may decode again);
  /// for non-binary packets its views point into `text`. `padded`: see decode_packet.
  Result<const Packet*> on_text(std::string_view text, bool padded = false);
  /// Feeds one binary Engine.IO message. Returns the completed packet after the last attachment
  /// (views into this Decoder, valid until the next call), else nullptr.
  Result<const Packet*> on_binary(std::span<const uint8_t> bytes);

  bool awaiting_attachments() const { return bin_ && bin_->awaiting > 0; }
  /// Drops any partial packet and the memory it held.
  void reset();

 private:
  void release_spent();

  // Only a connection that sends binary packets needs these: allocated on the first one, so
  // every other connection's decoder is its limits and a pointer.
  struct Binary {
    uint32_t awaiting = 0;      // attachments still to come
    bool spent = false;         // a completed binary packet still holds memory
    Packet packet;              // the binary packet being collected, then completed
    std::string header;         // text of a binary packet, owned while collecting
    std::vector<uint8_t> blob;  // attachments back to back
    std::vector<size_t> ends;   // end offset of each attachment in blob
    std::vector<std::span<const uint8_t>> spans;
  };

  DecodeLimits limits_;
  std::unique_ptr<Binary> bin_;
};

}  // namespace sb::socketio
