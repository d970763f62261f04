// libFuzzer target for the MessagePack codec and the JSON⇄MessagePack transcoders.
//
// The bytes are read as MessagePack (msgpack_to_json: never a crash, an error is fine); what
// decodes is sent round the loop JSON → MessagePack → JSON, which must always succeed and reach
// a fixpoint after one round. (One round may change the value, as it does in Node.js: integers of
// 2^64 and beyond wrap in notepack's uint64, and a map that spells a placeholder becomes the
// attachment it names.) The same bytes are also read as JSON text; what json_to_msgpack accepts
// must decode again.

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/json_msgpack.h"
#include "adapter/msgpack.h"

namespace {

using sb::adapter::json_to_msgpack;
using sb::adapter::msgpack_to_json;
using sb::adapter::msgpack::Reader;
using Bytes = std::vector<uint8_t>;

void check(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::span<const uint8_t>> spans(const std::vector<Bytes>& atts) {
  std::vector<std::span<const uint8_t>> s;
  s.reserve(atts.size());
  for (const Bytes& b : atts)
    s.emplace_back(b);
  return s;
}

// JSON (+ attachments) → MessagePack → JSON; both steps must succeed, and reading must consume
// exactly what was written.
void round(const std::string& json, const std::vector<Bytes>& atts, std::string& mp,
           std::string& json_out, std::vector<Bytes>& atts_out) {
  mp.clear();
  check(json_to_msgpack(json, spans(atts), mp).ok());
  Reader r(mp);
  json_out.clear();
  atts_out.clear();
  check(msgpack_to_json(r, json_out, atts_out).ok());
  check(r.at_end());
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  {
    Reader r(in);
    std::string json1;
    std::vector<Bytes> atts1;
    if (msgpack_to_json(r, json1, atts1).ok()) {
      std::string mp1;
      std::string json2;
      std::vector<Bytes> atts2;
      round(json1, atts1, mp1, json2, atts2);
      std::string mp2;
      std::string json3;
      std::vector<Bytes> atts3;
      round(json2, atts2, mp2, json3, atts3);
      check(json3 == json2);
      check(atts3 == atts2);
      std::string mp3;
      check(json_to_msgpack(json3, spans(atts3), mp3).ok());
      check(mp3 == mp2);
    }
    // skip() agrees with the converter on where a value ends (when both succeed).
    Reader s(in);
    Reader c(in);
    std::string j;
    std::vector<Bytes> a;
    if (s.skip().ok() && msgpack_to_json(c, j, a).ok()) check(s.offset() == c.offset());
  }
  {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string mp;
    if (json_to_msgpack(text, {}, mp).ok()) {
      Reader r(mp);
      std::string json;
      std::vector<Bytes> atts;
      check(msgpack_to_json(r, json, atts).ok());
      check(r.at_end());
      check(atts.empty());
    }
  }
  return 0;
}
