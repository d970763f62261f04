#pragma once
// Server-side, sans-I/O, in-place parser of client frames (RFC 6455 §5, RFC 7692).
//
// Buffer contract. feed() is handed the loop's receive buffer as a mutable span. The parser:
//  - unmasks payload bytes IN PLACE and reports how many bytes it consumed;
//  - consumes a data frame's payload as soon as it arrives, even partially: the bytes are
//    unmasked (keeping the mask phase), UTF-8-checked and appended to the per-connection message
//    buffer, so a large frame arriving over many reads is never re-scanned;
//  - does NOT consume an incomplete frame header (< 14 bytes) or an incomplete control frame
//    (<= 131 bytes): the caller keeps those unconsumed bytes and presents them again, with more
//    data appended, on the next call. Unconsumed bytes are left untouched (still masked).
//
// Zero-copy. A message that is one frame and lies entirely in the span is delivered as a view of
// the span itself. Only a message split over reads or frames, or a compressed one, goes through
// the message buffer, which is allocated when such a message starts and freed when it is
// delivered: an idle connection holds no buffer. Views passed to the visitor are valid only
// during the callback.
//
// Decisions. Non-minimal length encodings (e.g. 5 bytes sent with a 16-bit length) are accepted,
// as most servers do; they cost nothing and RFC 6455 gives the receiver no duty to reject them.
// Too many fragments close with 1008. Sizes are checked from the frame header before anything
// is buffered. After a close frame the parser consumes the rest of the input and emits nothing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ws/deflate.h"
#include "ws/frame.h"
#include "ws/utf8.h"

namespace sb::ws {

/// Receives the events of one feed() call. Callbacks must not call feed() re-entrantly.
class FrameVisitor {
 public:
  virtual ~FrameVisitor() = default;
  /// A complete (reassembled, decompressed, UTF-8-validated if text) message.
  virtual void on_message(MessageType type, std::span<const uint8_t> payload) = 0;
  virtual void on_ping(std::span<const uint8_t> payload) = 0;
  virtual void on_pong(std::span<const uint8_t> payload) = 0;
  /// The peer's close frame; code is 1005 (kNoStatus) when it carried none. The session answers
  /// with its own close frame (CloseHandshake) and closes the TCP connection.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

/// Outcome of one feed().
struct FeedResult {
  /// Bytes of the input the caller may drop. The rest must be presented again next time.
  size_t consumed = 0;
  /// 0 if the input was fine; otherwise the close code to fail the connection with (1002, 1007,
  /// 1008, 1009). Once failed, the parser returns the same error on every later feed.
  uint16_t close_code = 0;
  /// Static text for the close frame and logs (empty when ok).
  std::string_view reason;
  bool ok() const { return close_code == 0; }
};

class FrameParser {
 public:
  explicit FrameParser(Limits limits = {});
  ~FrameParser();
  FrameParser(FrameParser&&) noexcept;
  FrameParser& operator=(FrameParser&&) noexcept;

  /// Accept RSV1 (compressed) messages as negotiated by the handshake. Call before feeding.
  void enable_deflate(const DeflateParams& negotiated);

  /// Parses as much of `data` as possible, emitting events to `visitor` in wire order.
  FeedResult feed(std::span<uint8_t> data, FrameVisitor& visitor);

  /// A close frame was received (further input is ignored).
  bool close_received() const { return state_ == State::kClosed; }
  /// A protocol error was found; feed() keeps returning it.
  bool failed() const { return state_ == State::kFailed; }
  /// A data message has started and not yet been delivered.
  bool message_in_progress() const { return in_message_; }
  /// Capacity of the per-connection message buffer (0 when idle). For tests and metrics.
  size_t buffered_capacity() const { return msg_ ? msg_->capacity() : 0; }

 private:
  enum class State : uint8_t { kHeader, kPayload, kClosed, kFailed };

  FeedResult fail(size_t consumed, uint16_t code, const char* reason);
  // Returns 0 on success or a close code (reason in fail_reason_).
  uint16_t check_first_bytes(uint8_t b0, uint8_t b1);
  uint16_t process_chunk(std::span<const uint8_t> chunk);
  uint16_t finish_message(FrameVisitor& v);
  uint16_t handle_control(Opcode op, std::span<const uint8_t> payload, FrameVisitor& v);
  void reset_message();
  std::vector<uint8_t>& message_buffer();

  // Every WebSocket holds one parser for its whole life, so it is packed for idle memory
  // (72 bytes): 8-byte fields first, the message buffer out of line, the small fields last.
  uint64_t max_message_size_;  // Limits, unpacked (the struct has 4 bytes of padding)
  // Current frame (kPayload).
  uint64_t remaining_ = 0;
  // Current message.
  uint64_t wire_size_ = 0;  // payload bytes of this message on the wire so far
  // Sticky error reason: static text.
  const char* fail_reason_ = "";
  // The reassembled / inflated message: allocated when a message needs buffering (split over
  // reads or frames, or compressed) and freed once delivered, so an idle parser holds nothing.
  std::unique_ptr<std::vector<uint8_t>> msg_;
  std::unique_ptr<Inflater> inflater_;  // set when deflate was negotiated
  uint32_t max_fragments_;
  uint32_t fragments_ = 0;
  MaskKey mask_{};
  Utf8Validator utf8_;
  uint16_t fail_code_ = 0;
  State state_ = State::kHeader;
  uint8_t mask_phase_ = 0;
  bool frame_fin_ = false;
  bool in_message_ = false;
  bool compressed_ = false;
  MessageType type_ = MessageType::kBinary;
};

}  // namespace sb::ws
