#include "redis/command.h"

#include <charconv>
#include <cstring>

namespace sb::redis {
namespace {

size_t digits(size_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

uint8_t* put_header(uint8_t* p, char kind, size_t value) {
  *p++ = static_cast<uint8_t>(kind);
  auto* c = reinterpret_cast<char*>(p);
  auto [end, ec] = std::to_chars(c, c + 20, value);
  p = reinterpret_cast<uint8_t*>(end);
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

size_t command_size(std::span<const std::string_view> argv) {
  size_t n = 1 + digits(argv.size()) + 2;
  for (std::string_view a : argv)
    n += 1 + digits(a.size()) + 2 + a.size() + 2;
  return n;
}

size_t format_command(std::span<const std::string_view> argv, uint8_t* out) {
  uint8_t* p = put_header(out, '*', argv.size());
  for (std::string_view a : argv) {
    p = put_header(p, '$', a.size());
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    p += a.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  return static_cast<size_t>(p - out);
}

std::string format_command(std::span<const std::string_view> argv) {
  std::string s(command_size(argv), '\0');
  format_command(argv, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}

}  // namespace sb::redis
