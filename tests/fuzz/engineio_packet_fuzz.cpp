// Fuzzes the Engine.IO codec. The input is a polling POST body: every packet the PayloadDecoder
// returns is re-encoded, and when the whole body decodes, the re-encoded payload must equal the
// input byte for byte (base64 decoding is strict, so the encoding is canonical). The same bytes
// also go through the single-packet decoder, the query parser and the sid decoder.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.h"
#include "engineio/query.h"
#include "engineio/sid.h"

namespace {

using namespace sb::engineio;

void check_payload(std::string_view body) {
  PayloadDecoder dec(body, 64);
  std::vector<std::string> text;  // stable copies: binary packets live in the decoder
  std::vector<std::vector<uint8_t>> bin;
  std::vector<Packet> packets;
  Packet p;
  for (;;) {
    auto r = dec.next(p);
    if (!r) return;  // refused: nothing to compare
    if (!*r) break;
    if (p.binary) {
      bin.emplace_back(p.bytes.begin(), p.bytes.end());
    } else {
      if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size())
        abort();
      text.emplace_back(p.data);
    }
    packets.push_back(p);
  }
  std::vector<OutPacket> out;
  size_t ti = 0;
  size_t bi = 0;
  for (const Packet& q : packets) {
    out.push_back(q.binary ? OutPacket::binary_message(bin[bi++])
                           : OutPacket::text_packet(q.type, text[ti++]));
  }
  std::string again;
  encode_payload(out, again);
  if (again != body) abort();
  if (payload_size(out) != body.size()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_payload(in);
  auto one = decode_text_packet(in);
  if (one) {
    std::string again;
    encode_text_packet(again, one->type, one->data);
    if (again != in) abort();
  }
  const EngineQuery q = parse_engine_query(in);
  if (q.sid && q.sid->size() > size) abort();
  if (auto owner = decode_sid(in.substr(0, kSidLength))) {
    (void)owner;
  }
  return 0;
}
