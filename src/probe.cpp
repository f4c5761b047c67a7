#include "shmrpc/probe.hpp"

#include <atomic>
#include <optional>
#include <system_error>

#include "shmrpc/detail/process.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc {

bool ServerProbe::same_pid_namespace() const {
  return pid_namespace == detail::current_pid_namespace();
}

ServerProbe probe_server(std::string_view name) {
  validate_name(name);
  std::optional<Segment> segment;
  try {
    segment.emplace(Segment::open_read_only(name));
  } catch (const std::system_error& error) {
    if (error.code().value() == ENOENT) {
      return {};
    }
    if (error.code().value() == ENODATA) {
      return {Liveness::kDead, {}};  // an empty file: no server makes one (segments are
                                     // published whole), a leftover
    }
    throw;
  }
  return probe_segment(*segment);
}

ServerProbe probe_segment(const Segment& segment) {
  const bool held = segment.held();
  if (segment.size() < sizeof(layout::SegmentHeader)) {
    return {held ? Liveness::kStarting : Liveness::kDead, {}};
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment.data());
  // Acquire pairs with the release store of the magic in write_segment: the identity written
  // before it is seen too. The builtin, because the mapping may be read-only.
  if (__atomic_load_n(&header.magic, __ATOMIC_ACQUIRE) != layout::kMagic) {
    return {held ? Liveness::kStarting : Liveness::kDead, {}};
  }
  ServerProbe probe{
      Liveness::kDead, {header.server_pid, header.server_start_time}, header.server_pid_namespace};
  // Acquire pairs with the server's release stores of the state.
  const auto state = static_cast<layout::ServerState>(header.state.load(std::memory_order_acquire));
  if (held && state != layout::ServerState::kStopped) {
    probe.liveness =
        state == layout::ServerState::kStarting ? Liveness::kStarting : Liveness::kAlive;
  }
  return probe;
}

}  // namespace shmrpc
