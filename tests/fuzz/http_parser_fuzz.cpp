// libFuzzer target for the HTTP request parser. The first input byte picks a split point; the
// rest is fed once whole and once in two parts (each part in a fresh buffer, as the loop's spill
// would present it). Beyond "no crash, no UB", the two runs must agree exactly: a parser whose
// answer depends on how TCP split the bytes is a request-smuggling bug.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace {

using sb::http::ParseResult;
using sb::http::ParseStatus;
using sb::http::Request;
using sb::http::RequestParser;

struct Summary {
  ParseStatus status;
  uint16_t code;
  size_t head_size;
  size_t headers;
  std::string path;
  bool keep_alive;
  uint64_t content_length;
  bool operator==(const Summary&) const = default;
};

Summary summarize(const ParseResult& r, const Request& req) {
  if (!r.complete()) return {r.status, r.http_status, 0, 0, {}, false, 0};
  // Touch every view so ASan sees any that point outside the buffer.
  size_t sum = 0;
  for (const auto& h : req.headers())
    sum += h.name.size() + h.value.size();
  if (req.target.size() + req.query.size() + sum > req.head_size * 2 + 16) std::abort();
  return {r.status,
          r.http_status,
          req.head_size,
          req.header_count,
          std::string(req.path),
          req.keep_alive,
          req.content_length.value_or(UINT64_MAX)};
}

// Parses a stream of pipelined requests, delivered in two chunks split at `split`.
std::string run(std::string_view data, size_t split, sb::http::ParserLimits lim) {
  std::string log;
  RequestParser p(lim);
  Request req;
  std::string pending;
  for (std::string_view chunk : {data.substr(0, split), data.substr(split)}) {
    pending.append(chunk);
    for (;;) {
      const std::string copy = pending;
      const ParseResult r = p.parse(copy, req);
      if (r.status == ParseStatus::kNeedMore) break;
      if (r.complete()) {
        const uint64_t body = req.content_length.value_or(0);
        if (body > pending.size() - req.head_size) break;  // wait for the body, re-parse then
      }
      const Summary s = summarize(r, req);
      log += std::to_string(static_cast<int>(s.status)) + ":" + std::to_string(s.code) + ":" +
             std::to_string(s.head_size) + ":" + std::to_string(s.headers) + ":" + s.path + ":" +
             std::to_string(s.keep_alive) + ":" + std::to_string(s.content_length) + ";";
      if (r.error()) return log;
      const uint64_t body = req.content_length.value_or(0);
      pending.erase(0, req.head_size + static_cast<size_t>(body));
    }
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t split = in.empty() ? 0 : data[0] % (in.size() + 1);
  // Small limits so the fuzzer reaches the 414/431 paths with short inputs.
  const sb::http::ParserLimits lim{static_cast<size_t>(256 + (data[0] & 0x0f) * 64),
                                   static_cast<size_t>(4 + (data[0] >> 4))};
  if (run(in, in.size(), lim) != run(in, split, lim)) std::abort();
  return 0;
}
