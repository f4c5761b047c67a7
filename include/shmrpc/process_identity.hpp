#pragma once
/// Process identity that survives pid reuse: a pid plus the process's start time.

#include <sys/types.h>

#include <cstdint>

namespace shmrpc {

/// A process as a segment header or channel owner word records it. For display and for telling
/// a restarted server from the one a client attached to; whether a process lives is decided by
/// its byte locks (docs/SPEC.md, section 8).
struct ProcessIdentity {
  pid_t pid = 0;
  std::uint64_t start_time = 0;  ///< clock ticks since boot, /proc/PID/stat field 22
};

}  // namespace shmrpc
