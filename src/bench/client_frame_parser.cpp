#include "bench/client_frame_parser.h"

#include <algorithm>
#include <cstring>

#include "ws/deflate.h"

namespace sb::bench {
namespace {

constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kTooBig = 1009;
constexpr uint16_t kNoStatus = 1005;

}  // namespace

ClientFrameParser::ClientFrameParser(size_t max_message_size)
    : max_message_size_(max_message_size) {}
ClientFrameParser::~ClientFrameParser() = default;
ClientFrameParser::ClientFrameParser(ClientFrameParser&&) noexcept = default;
ClientFrameParser& ClientFrameParser::operator=(ClientFrameParser&&) noexcept = default;

void ClientFrameParser::enable_deflate(uint8_t server_max_window_bits,
                                       bool server_no_context_takeover) {
  inflater_ = std::make_unique<ws::Inflater>(server_max_window_bits, server_no_context_takeover);
}

ClientFeedResult ClientFrameParser::fail(size_t consumed, uint16_t code, std::string_view reason) {
  state_ = State::kFailed;
  fail_code_ = code;
  fail_reason_ = reason;
  return {consumed, code, reason};
}

uint16_t ClientFrameParser::deliver_message(ClientFrameVisitor& v) {
  in_message_ = false;
  if (!compressed_) {
    v.on_message(type_, buf_);
  } else {
    plain_.clear();
    auto st = inflater_->inflate(buf_, plain_, max_message_size_);
    if (st == ws::Inflater::Status::kOk) st = inflater_->finish_message(plain_, max_message_size_);
    if (st != ws::Inflater::Status::kOk) {
      inflater_->reset();
      fail_reason_ = st == ws::Inflater::Status::kTooLarge ? "inflated message too big"
                                                           : "corrupt compressed message";
      return st == ws::Inflater::Status::kTooLarge ? kTooBig : kProtocolError;
    }
    v.on_message(type_, plain_);
  }
  buf_.clear();
  // A big message leaves no big buffer behind on an idle client.
  if (buf_.capacity() > (64 << 10)) buf_.shrink_to_fit();
  if (plain_.capacity() > (64 << 10)) plain_.shrink_to_fit();
  return 0;
}

ClientFeedResult ClientFrameParser::feed(std::span<const uint8_t> data, ClientFrameVisitor& v) {
  if (state_ == State::kFailed) return {0, fail_code_, fail_reason_};
  if (state_ == State::kClosed) return {data.size(), 0, {}};
  const uint8_t* p = data.data();
  const size_t n = data.size();
  size_t pos = 0;
  while (pos < n) {
    if (state_ == State::kPayload) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - pos));
      buf_.insert(buf_.end(), p + pos, p + pos + take);
      pos += take;
      remaining_ -= take;
      if (remaining_ > 0) break;
      state_ = State::kHeader;
      if (frame_fin_) {
        if (uint16_t code = deliver_message(v)) return fail(pos, code, fail_reason_);
      }
      continue;
    }
    // kHeader
    if (n - pos < 2) break;
    const uint8_t b0 = p[pos];
    const uint8_t b1 = p[pos + 1];
    const bool fin = (b0 & 0x80) != 0;
    const bool rsv1 = (b0 & 0x40) != 0;
    const auto op = static_cast<ws::Opcode>(b0 & 0x0f);
    if ((b0 & 0x30) != 0) return fail(pos, kProtocolError, "RSV2/RSV3 set");
    if ((b1 & 0x80) != 0) return fail(pos, kProtocolError, "masked server frame");
    const uint8_t len7 = b1 & 0x7f;
    const size_t header = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
    if (n - pos < header) break;
    uint64_t len = len7;
    if (len7 == 126) {
      len = (uint64_t{p[pos + 2]} << 8) | p[pos + 3];
    } else if (len7 == 127) {
      len = 0;
      for (size_t i = 0; i < 8; ++i)
        len = (len << 8) | p[pos + 2 + i];
      if (len >> 63) return fail(pos, kProtocolError, "64-bit length with high bit set");
    }

    if (ws::is_control(op)) {
      if (op != ws::Opcode::kClose && op != ws::Opcode::kPing && op != ws::Opcode::kPong) {
        return fail(pos, kProtocolError, "reserved opcode");
      }
      if (!fin) return fail(pos, kProtocolError, "fragmented control frame");
      if (rsv1) return fail(pos, kProtocolError, "RSV1 on a control frame");
      if (len > ws::kMaxControlPayload) return fail(pos, kProtocolError, "control frame too long");
      if (n - pos < header + len) break;  // wait for the whole (small) control frame
      std::span<const uint8_t> payload(p + pos + header, static_cast<size_t>(len));
      pos += header + static_cast<size_t>(len);
      if (op == ws::Opcode::kPing) {
        v.on_ping(payload);
      } else if (op == ws::Opcode::kPong) {
        v.on_pong(payload);
      } else {
        if (payload.size() == 1) return fail(pos, kProtocolError, "one-byte close payload");
        uint16_t code = kNoStatus;
        std::string_view reason;
        if (payload.size() >= 2) {
          code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
          reason = std::string_view(reinterpret_cast<const char*>(payload.data()) + 2,
                                    payload.size() - 2);
        }
        state_ = State::kClosed;
        v.on_close(code, reason);
        return {n, 0, {}};  // nothing after a close frame matters
      }
      continue;
    }

    // Data frame.
    if (op == ws::Opcode::kContinuation) {
      if (!in_message_) return fail(pos, kProtocolError, "continuation without a message");
      if (rsv1) return fail(pos, kProtocolError, "RSV1 on a continuation frame");
    } else if (op == ws::Opcode::kText || op == ws::Opcode::kBinary) {
      if (in_message_) return fail(pos, kProtocolError, "new message inside a fragmented one");
      if (rsv1 && !inflater_) return fail(pos, kProtocolError, "RSV1 without permessage-deflate");
      in_message_ = true;
      compressed_ = rsv1;
      type_ = op == ws::Opcode::kText ? ws::MessageType::kText : ws::MessageType::kBinary;
    } else {
      return fail(pos, kProtocolError, "reserved opcode");
    }
    if (len > max_message_size_ || buf_.size() + len > max_message_size_) {
      return fail(pos, kTooBig, "message too big");
    }
    if (fin && buf_.empty() && !compressed_ && n - pos - header >= len) {
      // Whole single-frame message in the input: hand out a view, copy nothing.
      in_message_ = false;
      pos += header + static_cast<size_t>(len);
      v.on_message(type_, std::span<const uint8_t>(p + pos - len, static_cast<size_t>(len)));
      continue;
    }
    pos += header;
    frame_fin_ = fin;
    remaining_ = len;
    state_ = State::kPayload;
    if (len == 0) {
      state_ = State::kHeader;
      if (fin) {
        if (uint16_t code = deliver_message(v)) return fail(pos, code, fail_reason_);
      }
    }
  }
  return {pos, 0, {}};
}

}  // namespace sb::bench
