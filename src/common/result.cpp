#include "common/result.h"

namespace sb {

std::string_view errc_name(Errc e) {
  switch (e) {
    case Errc::kOk:
      return "ok";
    case Errc::kNeedMore:
      return "need-more";
    case Errc::kProtocol:
      return "protocol";
    case Errc::kTooLarge:
      return "too-large";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kInvalidArgument:
      return "invalid-argument";
    case Errc::kIo:
      return "io";
    case Errc::kClosed:
      return "closed";
  }
  return "unknown";
}

}  // namespace sb
