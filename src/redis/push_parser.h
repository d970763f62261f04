#pragma once
// The fast path for what a subscriber connection receives by the thousand: a pub/sub push
// (`message`, `pmessage`, `smessage`), parsed in place in the receive buffer. The general reader
// (hiredis) copies every byte into its own buffer and then into an owned Reply (a string per
// element); here the message is views into the bytes that were read. Anything else — a
// subscription confirmation, an error, a push cut by the end of the read — is left to the
// general reader, which then sees exactly the bytes it would have seen.

#include <cstddef>
#include <cstdint>
#include <span>

#include "redis/client.h"

namespace sb::redis {

/// Parses one complete message push at the start of `in` (RESP2: `*3` message/smessage, `*4`
/// pmessage, every element a bulk string). Returns the bytes it spans, with `out` viewing into
/// `in`; 0 when `in` does not start with a complete message push.
size_t parse_push(std::span<const uint8_t> in, PubSubMessage& out);

}  // namespace sb::redis
