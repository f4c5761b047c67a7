#include "shmrpc/inspect.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/detail/process.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/errors.hpp"

namespace shmrpc {
namespace {

constexpr std::string_view kShmDirectory = "/dev/shm/";
constexpr std::string_view kPrefix = "shmrpc.";

struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::int64_t modified_unix_ms = 0;
};

FileIdentity file_identity(std::string_view name) {
  struct stat st {};
  if (::stat(segment_path(name).c_str(), &st) != 0) {
    return {};
  }
  const std::int64_t ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                          static_cast<std::int64_t>(st.st_mtim.tv_nsec) / 1'000'000;
  return {true, st.st_dev, st.st_ino, ms};
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_name(std::string_view name) {
  try {
    validate_name(name);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace

std::vector<std::string> list_segments() {
  const std::unique_ptr<DIR, int (*)(DIR*)> directory(::opendir(std::string(kShmDirectory).c_str()),
                                                      &::closedir);
  if (!directory) {
    throw std::system_error(errno, std::generic_category(), "cannot list /dev/shm");
  }
  std::vector<std::string> names;
  // readdir is thread-safe for distinct directory streams (glibc); readdir_r is deprecated.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): this stream is ours alone
  while (const dirent* entry = ::readdir(directory.get())) {
    const std::string_view file(static_cast<const char*>(entry->d_name));
    if (file.starts_with(kPrefix) && valid_name(file.substr(kPrefix.size()))) {
      names.emplace_back(file.substr(kPrefix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

SegmentInspector::SegmentInspector(std::string_view name)
    : name_(name),
      segment_([&] {
        try {
          return Segment::open_read_only(name);
        } catch (const std::system_error& error) {
          if (error.code().value() == ENOENT) {
            throw NoServerError(
                fmt::format("shmrpc: no server named '{}' (no {})", name, segment_path(name)));
          }
          throw;
        }
      }()),
      modified_unix_ms_(file_identity(name).modified_unix_ms) {}

SegmentInspection SegmentInspector::inspect() const {
  SegmentInspection result;
  result.name = name_;
  result.file_size = segment_.size();
  result.modified_unix_ms = modified_unix_ms_;
  const std::byte* data = segment_.data();
  const ServerProbe probe = probe_segment(segment_);
  result.liveness = probe.liveness;
  if (segment_.size() < sizeof(layout::SegmentHeader)) {
    result.problem = "being created (no header yet)";
    return result;
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(data);
  // Acquire pairs with the release store of the magic in write_segment: once it is seen, the
  // fields written before it (pid, start time, sizes) are too. The builtin, because the mapping
  // is read-only and std::atomic_ref needs a non-const object.
  const std::uint64_t magic = __atomic_load_n(&header.magic, __ATOMIC_ACQUIRE);
  if (magic == 0) {
    result.problem = "being created (no header yet)";
    return result;
  }
  if (magic != layout::kMagic) {
    result.liveness = Liveness::kNone;
    result.problem = "not a shmrpc segment (wrong magic number)";
    return result;
  }
  result.format_version = header.format_version;
  if (header.format_version != layout::kFormatVersion) {
    result.liveness = Liveness::kNone;
    result.problem = fmt::format("segment format version {}; this tool reads version {}",
                                 header.format_version, layout::kFormatVersion);
    return result;
  }
  result.known_format = true;
  result.state = static_cast<layout::ServerState>(header.state.load(std::memory_order_acquire));
  result.server_pid = header.server_pid;
  result.server_start_time = header.server_start_time;
  result.created_unix_ms = header.created_unix_ms;
  result.function_count = header.function_count;
  result.segment_size = header.segment_size;
  // The channels only once the server published them (kReady acquire: the header is complete)
  // and only when they lie inside the mapping.
  const bool published = result.state != layout::ServerState::kStarting;
  const std::uint64_t size = segment_.size();
  const bool fits =
      header.channel_stride >= sizeof(layout::CommandBlock) &&
      header.channel_stride % layout::kCacheLine == 0 &&
      header.channel_table_offset % layout::kCacheLine == 0 &&
      header.channel_table_offset <= size &&
      header.channel_count <= (size - header.channel_table_offset) / header.channel_stride;
  if (!published || !fits) {
    if (published) {
      result.problem = "its channel table does not fit the segment";
    }
    return result;
  }
  result.channel_count = header.channel_count;
  for (std::uint32_t channel = 0; channel < header.channel_count; ++channel) {
    const auto& block = *reinterpret_cast<const layout::CommandBlock*>(
        data + header.channel_table_offset + channel * header.channel_stride);
    ChannelInspection entry;
    entry.index = channel;
    // Relaxed: a snapshot for display; nothing else is read on the strength of these.
    const std::uint64_t owner = block.owner.load(std::memory_order_relaxed);
    entry.owner_pid = detail::owner_pid(owner);
    entry.owner_alive = owner != 0 && segment_.locked(layout::channel_lock_byte(channel));
    entry.call_state = detail::state_of(block.state.load(std::memory_order_relaxed));
    entry.function_index = block.function_index;
    if (owner != 0) {
      ++result.channels_in_use;
    }
    result.channels.push_back(entry);
  }
  return result;
}

Schema SegmentInspector::schema() const {
  const SegmentInspection summary = inspect();
  if (!summary.known_format) {
    throw ProtocolError(
        fmt::format("shmrpc: the segment of '{}' cannot be read: {}", name_, summary.problem));
  }
  if (summary.state == layout::ServerState::kStarting) {
    throw ProtocolError(fmt::format("shmrpc: server '{}' is still starting", name_));
  }
  return Schema::read(segment_.data(), segment_.size(), name_);
}

std::vector<FunctionStats> SegmentInspector::stats() const {
  return detail::read_stats(segment_.data(), segment_.size(), name_);
}

SegmentInspection inspect_segment(std::string_view name) {
  try {
    return SegmentInspector(name).inspect();
  } catch (const NoServerError&) {
    SegmentInspection result;
    result.name = name;
    return result;
  } catch (const std::system_error& error) {
    SegmentInspection result;
    result.name = name;
    // Servers publish their segments whole, so an empty file is nobody's: a leftover.
    result.liveness = error.code().value() == ENODATA ? Liveness::kDead : Liveness::kNone;
    result.problem = error.code().value() == ENODATA ? "an empty file" : error.what();
    result.modified_unix_ms = file_identity(name).modified_unix_ms;
    return result;
  }
}

CleanOutcome remove_dead_segment(std::string_view name, std::int64_t starting_grace_ms) {
  validate_name(name);
  const FileIdentity before = file_identity(name);
  if (!before.exists) {
    return CleanOutcome::kGone;
  }
  const SegmentInspection seen = inspect_segment(name);
  switch (seen.liveness) {
    case Liveness::kNone:
      return seen.problem.empty() ? CleanOutcome::kGone : CleanOutcome::kUnknown;
    case Liveness::kAlive:
      return CleanOutcome::kAlive;
    case Liveness::kStarting:
      // No header: a server is writing it, or one died doing so. Only old ones are leftovers.
      if (now_unix_ms() - before.modified_unix_ms < starting_grace_ms) {
        return CleanOutcome::kStarting;
      }
      break;
    case Liveness::kDead:
      break;
  }
  // The file we judged must still be the one under the name: a new server may have replaced a
  // dead server's segment meanwhile.
  const FileIdentity now = file_identity(name);
  if (!now.exists) {
    return CleanOutcome::kGone;
  }
  if (now.device != before.device || now.inode != before.inode) {
    return CleanOutcome::kReplaced;
  }
  // Removes it only if no live process holds it, atomically with respect to servers taking the
  // name: what was judged a moment ago is checked once more under the holder lock.
  switch (Segment::remove_unheld(name)) {
    case RemoveOutcome::kRemoved:
      return CleanOutcome::kRemoved;
    case RemoveOutcome::kHeld:
      return CleanOutcome::kAlive;
    case RemoveOutcome::kGone:
      return CleanOutcome::kGone;
  }
  return CleanOutcome::kGone;
}

}  // namespace shmrpc
