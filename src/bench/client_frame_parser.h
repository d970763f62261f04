#pragma once
// Client-side, sans-I/O parser of server frames (RFC 6455 §5), for the load generator.
//
// Server frames are never masked (a masked one is a protocol error, 1002). feed() takes the bytes
// received so far and returns how many it consumed; the caller keeps the rest and presents it
// again, followed by new bytes (the loop's spill buffer does exactly that). Any TCP split works:
//  - an incomplete header, or an incomplete control frame (<= 127 bytes), is left unconsumed;
//  - a data frame's payload is consumed as it arrives and gathered in a message buffer, so a large
//    frame is never re-scanned;
//  - a whole unfragmented, uncompressed frame found in the input is delivered as a view of it
//    (the common case in a benchmark: no copy at all).
// Text messages are not UTF-8-validated: the load generator measures the server, and trusts it.
// With permessage-deflate negotiated, RSV1 messages are inflated (ws::Inflater).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ws/frame.h"

namespace sb::ws {
class Inflater;
}

namespace sb::bench {

/// Receives the events of one feed(). Views are valid only during the callback.
class ClientFrameVisitor {
 public:
  virtual ~ClientFrameVisitor() = default;
  virtual void on_message(ws::MessageType type, std::span<const uint8_t> payload) = 0;
  virtual void on_ping(std::span<const uint8_t> /*payload*/) {}
  virtual void on_pong(std::span<const uint8_t> /*payload*/) {}
  /// The server's close frame; code 1005 when it carried none.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

struct ClientFeedResult {
  size_t consumed = 0;
  /// 0 when fine; otherwise the close code to fail the connection with (1002, 1009).
  uint16_t close_code = 0;
  std::string_view reason;  ///< static text
  bool ok() const { return close_code == 0; }
};

class ClientFrameParser {
 public:
  explicit ClientFrameParser(size_t max_message_size = size_t{64} << 20);
  ~ClientFrameParser();
  ClientFrameParser(ClientFrameParser&&) noexcept;
  ClientFrameParser& operator=(ClientFrameParser&&) noexcept;

  /// Accept RSV1 messages compressed with the server's negotiated parameters.
  void enable_deflate(uint8_t server_max_window_bits, bool server_no_context_takeover);

  ClientFeedResult feed(std::span<const uint8_t> data, ClientFrameVisitor& visitor);

  bool close_received() const { return state_ == State::kClosed; }
  bool failed() const { return state_ == State::kFailed; }

 private:
  enum class State : uint8_t { kHeader, kPayload, kClosed, kFailed };

  ClientFeedResult fail(size_t consumed, uint16_t code, std::string_view reason);
  // Returns 0 or a close code (reason in fail_reason_).
  uint16_t deliver_message(ClientFrameVisitor& v);

  size_t max_message_size_;
  State state_ = State::kHeader;
  uint64_t remaining_ = 0;  // payload bytes of the current data frame still to come
  bool frame_fin_ = false;
  bool in_message_ = false;
  bool compressed_ = false;
  ws::MessageType type_ = ws::MessageType::kBinary;
  std::vector<uint8_t> buf_;    // gathered (compressed) message bytes
  std::vector<uint8_t> plain_;  // inflated message
  std::unique_ptr<ws::Inflater> inflater_;
  uint16_t fail_code_ = 0;
  std::string_view fail_reason_;
};

}  // namespace sb::bench
