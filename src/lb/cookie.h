#pragma once
// The affinity cookie of cookie mode: finding ours in a request's Cookie header(s) and writing the
// Set-Cookie that pins a client. The value is an opaque backend token, not an address, so the
// cookie does not reveal the topology; an unknown or malformed value is ignored (the client is
// simply balanced again and gets a new cookie).

#include <optional>
#include <string>
#include <string_view>

namespace sb::lb {

/// The value of cookie `name` in a Cookie header value ("a=1; b=2"), or nullopt. Names match
/// exactly (cookie names are case-sensitive); surrounding double quotes are removed.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

/// "Set-Cookie: NAME=VALUE; Path=/; HttpOnly; SameSite=Lax" (no CRLF). Cross-origin pages need
/// `SameSite=None; Secure` and withCredentials — see docs/lb.md.
std::string set_cookie_header(std::string_view name, std::string_view value,
                              std::string_view attributes);

}  // namespace sb::lb
