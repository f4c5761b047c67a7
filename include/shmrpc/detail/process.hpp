#pragma once
/// The calling process's identity, and the start time of others (/proc).

#include <sys/types.h>

#include <cstdint>

#include "shmrpc/process_identity.hpp"

namespace shmrpc::detail {

/// This process (re-read after fork).
ProcessIdentity current_process();

/// Inode number of this process's pid namespace (/proc/self/ns/pid), or 0 when /proc does not
/// tell. Two processes see each other's pids only when these are equal.
std::uint64_t current_pid_namespace();

/// Start time of `pid`, or 0 when there is no such process or it is a zombie.
std::uint64_t process_start_time(pid_t pid);

/// Packs an identity into a channel owner word (for display; the channel's byte lock decides
/// whether its owner lives): pid in bits 0-31, low 32 bits of start time above.
constexpr std::uint64_t owner_word(ProcessIdentity id) {
  return (id.start_time << 32U) | static_cast<std::uint32_t>(id.pid);
}

/// The pid in an owner word.
constexpr pid_t owner_pid(std::uint64_t owner) {
  return static_cast<pid_t>(owner & 0xFFFF'FFFFU);
}

}  // namespace shmrpc::detail
