#include "ws/close_code.h"

namespace sb::ws {

bool is_valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code >= 1000 && code <= 1003) return true;
  return code >= 1007 && code <= 1014;
}

std::string_view close_code_name(uint16_t code) {
  switch (code) {
    case close_code::kNormal:
      return "normal";
    case close_code::kGoingAway:
      return "going_away";
    case close_code::kProtocolError:
      return "protocol_error";
    case close_code::kUnsupportedData:
      return "unsupported_data";
    case close_code::kNoStatus:
      return "no_status";
    case close_code::kAbnormal:
      return "abnormal";
    case close_code::kInvalidPayload:
      return "invalid_payload";
    case close_code::kPolicyViolation:
      return "policy_violation";
    case close_code::kMessageTooBig:
      return "message_too_big";
    case close_code::kMandatoryExtension:
      return "mandatory_extension";
    case close_code::kInternalError:
      return "internal_error";
    case close_code::kServiceRestart:
      return "service_restart";
    case close_code::kTryAgainLater:
      return "try_again_later";
    case close_code::kBadGateway:
      return "bad_gateway";
    case close_code::kTlsHandshake:
      return "tls_handshake";
    default:
      break;
  }
  if (code >= 3000 && code <= 4999) return "application";
  return "invalid";
}

}  // namespace sb::ws
