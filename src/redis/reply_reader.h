#pragma once
// Sans-I/O RESP2 reply reader: bytes in, owned Reply trees out. hiredis's parser (redisReader) does
// the protocol work; its object callbacks build our Reply directly, so there is no intermediate
// redisReply tree to copy. Limits bound what a misbehaving server can make us hold.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.h"
#include "redis/reply.h"

struct redisReader;

namespace sb::redis {

struct ReplyReaderLimits {
  size_t max_buffer_bytes = 64 << 20;  // unparsed input (one huge bulk string) beyond: error
  size_t max_elements = 4 << 20;       // array elements in one reply, all levels
};

class ReplyReader {
 public:
  explicit ReplyReader(ReplyReaderLimits limits = {});
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  /// Appends bytes. Fails (and stays failed) past max_buffer_bytes or after a protocol error.
  Result<void> feed(std::span<const uint8_t> bytes);
  Result<void> feed(std::string_view bytes);
  /// The next complete reply, std::nullopt when more bytes are needed, or the protocol error.
  /// After an error the reader is unusable: the connection must be dropped.
  Result<std::optional<Reply>> next();
  /// hiredis's description of the last protocol error (for logs).
  std::string_view error_text() const;
  /// Bytes buffered and not yet consumed by a complete reply.
  size_t buffered() const;
  /// No byte buffered and no reply half-parsed: the next input starts a new reply.
  bool idle() const;

 private:
  redisReader* r_ = nullptr;
  ReplyReaderLimits limits_;
  size_t elements_ = 0;  // array elements allocated for the reply being parsed
  bool failed_ = false;
  friend struct ReaderCallbacks;
};

}  // namespace sb::redis
