#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace sb::log {

bool init(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_logger_mt("switchboard");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [t%t] %v");
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

}  // namespace sb::log
