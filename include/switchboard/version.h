#pragma once
/// \file
/// Version of the Switchboard library and binary. The embedding API is in switchboard.h.

namespace switchboard {

inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;
inline constexpr const char* kVersionString = "0.1.0";

}  // namespace switchboard
