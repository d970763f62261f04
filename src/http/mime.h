#pragma once
// Content types for static files, by file extension.

#include <string_view>

namespace sb::http {

/// The Content-Type for a file path by its extension (case-insensitive);
/// "application/octet-stream" when unknown.
std::string_view mime_type(std::string_view path);

}  // namespace sb::http
