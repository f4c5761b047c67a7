#pragma once
/// Looks at a server's segment from outside, without attaching: is a server of that name running?

#include <cstdint>
#include <string_view>

#include "shmrpc/process_identity.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

enum class Liveness {
  kNone,      ///< no segment of that name
  kStarting,  ///< held by a live server that is not ready yet
  kAlive,     ///< held by a live server that serves (or is stopping)
  kDead,      ///< a segment no live process holds: left by a server that died or stopped
};

struct ServerProbe {
  Liveness liveness = Liveness::kNone;
  ProcessIdentity server;  ///< from the header, when there is one
  /// Inode of the server's pid namespace (0 when unknown); the pid is a pid there.
  std::uint64_t pid_namespace = 0;
  /// Whether server.pid means the same process here as it does to the server.
  bool same_pid_namespace() const;
};

/// Opens the segment `name` read-only and judges it (probe_segment); an empty file is kDead.
/// Throws std::system_error when the file cannot be opened (EACCES: another user's; EINVAL: not a
/// regular file), std::invalid_argument for a bad name. Never blocks.
ServerProbe probe_server(std::string_view name);

/// The liveness of the server of a mapped segment (which may be mapped read-only). Decided by the
/// holder lock (Segment::held), which the kernel drops when the server dies in any pid namespace,
/// and by the header's state: a held segment in kStarting is starting, in kReady or kStopping
/// alive; kStopped, or no holder, is dead. The pid in the header is for display only.
ServerProbe probe_segment(const Segment& segment);

}  // namespace shmrpc
