#include "ws/handshake.h"

#include "common/base64.h"
#include "ws/sha1.h"

namespace sb::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view status_text(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 426:
      return "Upgrade Required";
    default:
      return "Error";
  }
}

HandshakeOutcome reject(int status, std::string_view reason) {
  HandshakeOutcome o;
  o.status = status;
  o.reason = reason;
  std::string& r = o.response;
  r.reserve(160 + reason.size());
  r += "HTTP/1.1 ";
  r += std::to_string(status);
  r += ' ';
  r += status_text(status);
  r += "\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ";
  r += std::to_string(reason.size());
  r += "\r\n";
  // RFC 6455 §4.4: tell the client which version we speak.
  if (status == 426) r += "Sec-WebSocket-Version: 13\r\n";
  r += "\r\n";
  r += reason;
  return o;
}

// All Sec-WebSocket-Extensions lines as one list (a header may legally be split over lines).
std::string collect_extensions(const http::Request& req) {
  std::string all;
  for (const http::Header& h : req.headers()) {
    if (!http::iequals(h.name, "Sec-WebSocket-Extensions")) continue;
    if (!all.empty()) all += ", ";
    all += h.value;
  }
  return all;
}

}  // namespace

std::array<char, 28> compute_accept(std::string_view key) {
  Sha1 s;
  s.update(key);
  s.update(kGuid);
  const Sha1Digest d = s.finish();
  std::array<char, 28> out{};
  base64_encode_to(d, out.data());
  return out;
}

bool same_origin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() > scheme.size() && http::iequals(origin.substr(0, scheme.size()), scheme)) {
      return !host.empty() && http::iequals(origin.substr(scheme.size()), host);
    }
  }
  return false;
}

HandshakeOutcome validate_upgrade(const http::Request& req, const HandshakeOptions& opts) {
  if (req.method != http::Method::kGet) return reject(400, "WebSocket upgrade requires GET");
  if (req.version_minor != 1) return reject(400, "WebSocket upgrade requires HTTP/1.1");
  if (!req.header("Host")) return reject(400, "missing Host header");
  if (!req.header_has_token("Upgrade", "websocket"))
    return reject(400, "missing Upgrade: websocket");
  if (!req.header_has_token("Connection", "upgrade"))
    return reject(400, "missing Connection: Upgrade");
  const std::optional<std::string_view> version = req.header("Sec-WebSocket-Version");
  if (!version || *version != "13") return reject(426, "unsupported Sec-WebSocket-Version");
  const std::optional<std::string_view> key = req.header("Sec-WebSocket-Key");
  if (!key) return reject(400, "missing Sec-WebSocket-Key");
  uint8_t raw[base64_decoded_max_size(64)];
  if (key->size() != 24) return reject(400, "invalid Sec-WebSocket-Key");
  Result<size_t> n = base64_decode_to(*key, raw);
  if (!n || *n != 16) return reject(400, "invalid Sec-WebSocket-Key");
  if (const std::optional<std::string_view> origin = req.header("Origin")) {
    // A page this node served (Origin = Host) may always connect; others need the allow-list.
    if (opts.allow_origin && !same_origin(*origin, req.header("Host").value_or("")) &&
        !opts.allow_origin(*origin)) {
      return reject(403, "origin not allowed");
    }
  }

  HandshakeOutcome o;
  o.status = 101;
  o.reason = "Switching Protocols";
  if (opts.deflate.enabled) {
    const std::string offers = collect_extensions(req);
    if (!offers.empty()) o.deflate = negotiate_deflate(offers, opts.deflate);
  }
  const std::array<char, 28> accept = compute_accept(*key);
  std::string& r = o.response;
  r.reserve(200 + opts.extra_headers.size());
  r += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  r += "Sec-WebSocket-Accept: ";
  r.append(accept.data(), accept.size());
  r += "\r\n";
  if (o.deflate) {
    r += "Sec-WebSocket-Extensions: ";
    r += format_deflate_response(*o.deflate);
    r += "\r\n";
  }
  r += opts.extra_headers;
  r += "\r\n";
  return o;
}

}  // namespace sb::ws
