#pragma once
// HTTP response compression for polling payloads (Node's `httpCompression`): gzip or deflate
// (zlib format, as Node's zlib.createDeflate), chosen from the request's Accept-Encoding.

#include <string>
#include <string_view>

#include "engineio/socket.h"

namespace sb::engineio {

/// The encoding to answer with, from an Accept-Encoding value: the acceptable one (q > 0) with
/// the highest q, gzip before deflate on a tie; `*` covers both; identity when none.
ContentEncoding negotiate_encoding(std::string_view accept_encoding);
/// "gzip" / "deflate" / "".
std::string_view encoding_name(ContentEncoding e);
/// Compresses `in` into `out` with one zlib stream per loop thread (reset between bodies).
/// False on a zlib failure (the caller then sends the body uncompressed).
bool compress_body(std::string_view in, ContentEncoding e, std::string& out);

}  // namespace sb::engineio
