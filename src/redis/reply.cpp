#include "redis/reply.h"

#include <fmt/format.h>

namespace sb::redis {
namespace {

// Printable form of binary data: escapes everything outside printable ASCII.
void append_quoted(std::string& out, std::string_view s) {
  constexpr size_t kMaxShown = 256;  // log lines stay bounded
  out.push_back('"');
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out.push_back('"');
}

void append(std::string& out, const Reply& r, int depth) {
  switch (r.type) {
    case Reply::Type::kString:
      append_quoted(out, r.str);
      break;
    case Reply::Type::kStatus:
      out += r.str;
      break;
    case Reply::Type::kError:
      out += "(error) ";
      out += r.str;
      break;
    case Reply::Type::kInteger:
      out += fmt::format("(integer) {}", r.integer);
      break;
    case Reply::Type::kNil:
      out += "(nil)";
      break;
    case Reply::Type::kArray:
      if (depth > 8) {
        out += "[...]";
        break;
      }
      out.push_back('[');
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out += ", ";
        append(out, r.elements[i], depth + 1);
      }
      out.push_back(']');
      break;
  }
}

}  // namespace

std::string to_string(const Reply& r) {
  std::string out;
  append(out, r, 0);
  return out;
}

}  // namespace sb::redis
