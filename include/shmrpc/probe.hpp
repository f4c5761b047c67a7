#pragma once
/// Looks at a server's segment from outside, without attaching: is a server of that name running?

#include <cstddef>
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

/// The liveness of the server whose mapped segment of `size` bytes starts at `segment` (which
/// may be mapped read-only): what probe_server decides once it has the mapping.
ServerProbe probe_header(const std::byte* segment, std::size_t size);

}  // namespace shmrpc
