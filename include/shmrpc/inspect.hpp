#pragma once
/// Looks at servers from outside, as the `shmrpc` command line does: lists the segments in
/// /dev/shm, reads their headers, channels, metadata and call statistics through read-only
/// mappings, and removes the segments of dead servers. Never writes into a segment; a segment of
/// another format version or another program is reported, not misread.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmrpc/function_stats.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

/// One channel as seen from outside.
struct ChannelInspection {
  std::uint32_t index = 0;
  pid_t owner_pid = 0;  ///< 0: free
  bool owner_alive = false;
  layout::CallState call_state = layout::CallState::kIdle;
  std::uint32_t function_index = 0;  ///< of the current or last call
};

/// What a segment's header and channels say. Fields the segment does not reveal (unreadable,
/// not a shmrpc segment, another format version, still being created) keep their defaults and
/// `problem` says why.
struct SegmentInspection {
  std::string name;
  std::uint64_t file_size = 0;
  std::int64_t modified_unix_ms = 0;  ///< the file's modification time
  Liveness liveness = Liveness::kNone;
  bool known_format = false;  ///< a version kFormatVersion segment whose header fields are read
  std::uint32_t format_version = 0;
  std::string problem;  ///< empty, or why the fields below are unknown
  layout::ServerState state = layout::ServerState::kStarting;
  pid_t server_pid = 0;
  std::uint64_t server_start_time = 0;
  std::uint64_t created_unix_ms = 0;
  std::uint32_t function_count = 0;
  std::uint32_t channel_count = 0;
  std::uint32_t channels_in_use = 0;
  std::uint64_t segment_size = 0;
  std::vector<ChannelInspection> channels;
};

/// Names of the shmrpc segments in /dev/shm (files "shmrpc.NAME" whose NAME is a valid server
/// name), sorted. Throws std::system_error when /dev/shm cannot be read.
std::vector<std::string> list_segments();

/// A read-only view of the segment of server `name`, mapped for as long as the object lives.
class SegmentInspector {
 public:
  /// Maps the segment read-only. Throws NoServerError when there is none, std::system_error
  /// (e.g. EACCES) when it cannot be opened, std::invalid_argument for a bad name.
  explicit SegmentInspector(std::string_view name);

  /// Header, liveness and channels. Never throws for the segment's contents.
  SegmentInspection inspect() const;
  /// The functions, validated (Schema::read). Throws ProtocolError when the segment is not a
  /// complete segment of this format version.
  Schema schema() const;
  /// Call statistics per function, summed over channels (detail::read_stats).
  std::vector<FunctionStats> stats() const;

 private:
  std::string name_;
  Segment segment_;
  std::int64_t modified_unix_ms_ = 0;
};

/// A segment's inspection without throwing: a missing segment gives liveness kNone, an unreadable
/// one a `problem`.
SegmentInspection inspect_segment(std::string_view name);

/// What remove_dead_segment did.
enum class CleanOutcome {
  kRemoved,   ///< the segment of a dead server was unlinked
  kAlive,     ///< its server runs: left alone
  kStarting,  ///< being created (younger than the grace period), or its creator runs
  kUnknown,   ///< another format or program, or unreadable: left alone
  kGone,      ///< no such segment (any more)
  kReplaced,  ///< the name now belongs to another segment: left alone
};

/// Unlinks the segment `name` if, checked right before, its server is dead, or it never got a
/// header and is older than `starting_grace_ms`. Never removes a live server's segment: the
/// liveness is read from a mapping of the very file that is unlinked (same inode just before).
CleanOutcome remove_dead_segment(std::string_view name, std::int64_t starting_grace_ms);

}  // namespace shmrpc
