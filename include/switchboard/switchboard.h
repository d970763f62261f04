#pragma once
/// \file
/// The Switchboard embedding API in one include: `switchboard::Server`, its options, and the
/// Socket.IO vocabulary (Socket, Namespace, Args, Ack, Json, BroadcastOperator). Link
/// `Switchboard::switchboard` (find_package(Switchboard)). See docs/api.md.

#include "switchboard/options.h"  // IWYU pragma: export
#include "switchboard/server.h"   // IWYU pragma: export
#include "switchboard/types.h"    // IWYU pragma: export
#include "switchboard/version.h"  // IWYU pragma: export
