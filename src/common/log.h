#pragma once
// Logging: spdlog behind a few macros so the data path pays one level check when a level is off.

#include <spdlog/spdlog.h>

#include <string_view>

namespace sb::log {

/// Sets up the process logger (stderr, thread id in each line). Accepts
/// trace|debug|info|warn|error|off; returns false for an unknown level.
bool init(std::string_view level);

namespace detail {
// spdlog builds its registry lazily, inside the shared library where TSan cannot see the guard
// of the function-local static; two loop threads logging their first line at once are then
// reported as a race. Building it during static initialisation (one thread, before main) in
// every program that includes this header makes the first use race-free.
[[maybe_unused]] static const bool registry_ready =
    (static_cast<void>(spdlog::default_logger_raw()), true);
}  // namespace detail

}  // namespace sb::log

#define SB_LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define SB_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define SB_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define SB_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define SB_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
