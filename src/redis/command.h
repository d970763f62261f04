#pragma once
// RESP2 command encoding (`*N\r\n$len\r\narg\r\n...`), binary-safe. Byte-for-byte what hiredis's
// redisFormatCommandArgv produces (a unit test checks that), but written straight into the
// connection's cork buffer: no malloc and no copy per command on the publish path.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sb::redis {

/// Exact encoded size of `argv`.
size_t command_size(std::span<const std::string_view> argv);
/// Encodes `argv` into `out`, which must hold command_size(argv) bytes. Returns bytes written.
size_t format_command(std::span<const std::string_view> argv, uint8_t* out);
/// Convenience: the encoded command as a string.
std::string format_command(std::span<const std::string_view> argv);

}  // namespace sb::redis
