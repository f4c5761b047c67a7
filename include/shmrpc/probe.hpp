#pragma once
/// Looks at a server's segment from outside, without attaching: is a server of that name running?

#include <string_view>

#include "shmrpc/detail/process.hpp"

namespace shmrpc {

enum class Liveness {
  kNone,      ///< no segment of that name
  kStarting,  ///< a segment whose header is not written yet
  kAlive,     ///< a server that runs
  kDead,      ///< a segment left by a server that died or stopped
};

struct ServerProbe {
  Liveness liveness = Liveness::kNone;
  detail::ProcessIdentity server;  ///< from the header, when there is one
};

/// Reads the header of the segment `name` (validate_name first; throws std::invalid_argument).
ServerProbe probe_server(std::string_view name);

}  // namespace shmrpc
